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
  /** The current read's `take`, and why it stopped if it refused a frame: fields, so that a read makes no closure. */
  private take: (envelope: Envelope) => boolean = () => false;
  private refused: CloseCause | undefined;

  /** The handshake is done: frames up to `maxFrameBytes`, and only what a `from` may send a `to`. */
  authenticated(from: Role, to: Role, maxFrameBytes: number): void {
    this.from = from;
    this.to = to;
    this.admitted = receivable(from, to);
    this.frames.maxFrameBytes = maxFrameBytes;
  }

  /** Hands each envelope of `chunk` to `take`, in order, while it returns true. Returns why the bytes are refused, if they are. */
  read(chunk: Buffer, take: (envelope: Envelope) => boolean): CloseCause | undefined {
    this.take = take;
    this.refused = undefined;
    try {
      this.frames.read(chunk, this.onFrame);
    } catch (error) {
      return closeCause('BAD_FRAME', `bad frame: ${(error as Error).message}`);
    }
    return this.refused;
  }

  private readonly onFrame = (frame: Buffer): boolean => {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(frame);
    } catch (error) {
      this.refused = closeCause('UNDECODABLE', `undecodable frame: ${(error as Error).message}`);
      return false;
    }
    if (this.admitted !== undefined) {
      const kind = envelopeKind(envelope);
      if (kind === undefined || !this.admitted.has(kind)) {
        this.refused = closeCause('NOT_PERMITTED', `unexpected ${kind ?? 'empty envelope'} from a ${Role[this.from]} (to a ${Role[this.to]})`);
        return false;
      }
      if (kind === 'heartbeat') return true;
    }
    return this.take(envelope);
  };
}
