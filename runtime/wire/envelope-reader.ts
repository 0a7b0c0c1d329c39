import { closeCause, type CloseCause } from './close-cause.js';
import { decodeEnvelope, envelopeKind } from './envelope-codec.js';
import { FrameDecoder } from './frame-codec.js';
import { receivable } from './role-messages.js';
import { Role, type Envelope, type EnvelopeKind } from './types.js';

/** Before authentication nobody gets to make us buffer much. */
const HANDSHAKE_MAX_FRAME = 1024;

/**
 * Bytes of one connection in, envelopes out: frames under the limit, each an Envelope, and once the handshake is done
 * only the kinds the peer's role may send ours (role-messages.ts). Heartbeats stop here: receiving them is all they do.
 */
export class EnvelopeReader {
  private readonly frames = new FrameDecoder(HANDSHAKE_MAX_FRAME);
  /** What the peer may send, once authenticated; until then everything goes to the handshake. */
  private admitted: ReadonlySet<EnvelopeKind> | undefined;
  private from = Role.Unspecified;
  private to = Role.Unspecified;

  /** The handshake is done: frames up to `maxFrameBytes`, and only what a `from` may send a `to`. */
  authenticated(from: Role, to: Role, maxFrameBytes: number): void {
    this.from = from;
    this.to = to;
    this.admitted = receivable(from, to);
    this.frames.maxFrameBytes = maxFrameBytes;
  }

  /** Hands each envelope of `chunk` to `take`, in order, while it returns true. Returns why the bytes are refused, if they are. */
  read(chunk: Buffer, take: (envelope: Envelope) => boolean): CloseCause | undefined {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (error) {
      return closeCause('BAD_FRAME', `bad frame: ${(error as Error).message}`);
    }
    for (const frame of frames) {
      let envelope: Envelope;
      try {
        envelope = decodeEnvelope(frame);
      } catch (error) {
        return closeCause('UNDECODABLE', `undecodable frame: ${(error as Error).message}`);
      }
      if (this.admitted !== undefined) {
        const kind = envelopeKind(envelope);
        if (kind === undefined || !this.admitted.has(kind)) {
          return closeCause('NOT_PERMITTED', `unexpected ${kind ?? 'empty envelope'} from a ${Role[this.from]} (to a ${Role[this.to]})`);
        }
        if (kind === 'heartbeat') continue;
      }
      if (!take(envelope)) return undefined;
    }
    return undefined;
  }
}
