import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../observability/log.js';
import { FrameBatch, decodeEnvelope, encodeEnvelopeFrame, envelopeKind } from './envelope-codec.js';
import { FrameDecoder } from './frame-codec.js';
import { PROTOCOL_VERSION, channelBindingOf, dialerProof, listenerProof, newNonce, proofsMatch, type Transcript } from './handshake.js';
import { dialersOf, receivable } from './role-messages.js';
import { Role, type Envelope, type EnvelopeKind } from './types.js';

const DEFAULT_HEARTBEAT_MS = 10_000;

export interface PeerOptions {
  secret: Buffer;
  /** Largest frame accepted once authenticated. */
  maxFrameBytes: number;
  log: Logger;
  /** Our role and name, sent in Hello when we dial. */
  role: Role;
  name: string;
  /** Sent in Hello when we dial: what our side offers (see Hello.features in gwc.proto). */
  features?: string[];
  handshakeTimeoutMs?: number;
  /** Heartbeats go out when idle this long; a peer silent for three intervals is dropped. */
  heartbeatMs?: number;
}

/** Which end of the connection we are: the dialer names where it meant to go; the listener knows where it is. */
export type PeerSide = { dial: DialTarget } | { accept: OwnAddress };

export interface DialTarget {
  /** The address dialed, as the Register listed it or as configured. */
  address: string;
  /** The role expected there. */
  role: Role;
}

export interface OwnAddress {
  /** Whether a dialer that dialed `target` meant to reach us. */
  matches(target: string): boolean;
  /** For log lines and refusals. */
  description: string;
}

/** Before authentication nobody gets to make us buffer much. */
const HANDSHAKE_MAX_FRAME = 1024;

/** A batch this large goes out at once, so the peer can start on it while we keep producing. */
const FLUSH_AT_BYTES = 32 * 1024;

/** whenDrained() waits only when more than this is queued. */
const DRAINED_BELOW_BYTES = 1024 * 1024;
const RESOLVED = Promise.resolve();

type Phase = 'awaiting-hello' | 'awaiting-challenge' | 'awaiting-auth' | 'awaiting-welcome' | 'ready' | 'closed';

/**
 * One authenticated internal connection carrying Envelopes in length-delimited frames.
 * Events: 'ready' (after the handshake), 'envelope' (env), 'close' (reason: string).
 * Writes are batched and flushed once per event-loop turn.
 */
export class PeerConnection extends EventEmitter {
  remoteRole: Role = Role.Unspecified;
  remoteName = '';
  remoteFeatures: readonly string[] = [];
  closeReason = '';
  private phase: Phase;
  private readonly decoder = new FrameDecoder(HANDSHAKE_MAX_FRAME);
  private readonly ourNonce = newNonce();
  /** Filled in as the handshake goes; both proofs are computed over all of it. */
  private transcript: Transcript | undefined;
  /** What the peer may send once authenticated (role-messages.ts). */
  private receives: ReadonlySet<EnvelopeKind> = new Set();
  private readonly outbox = new FrameBatch();
  private flushScheduled = false;
  private drained: Promise<void> | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  private lastSent = Date.now();

  constructor(
    readonly socket: Socket,
    private readonly side: PeerSide,
    private readonly options: PeerOptions,
  ) {
    super();
    this.phase = 'dial' in side ? 'awaiting-challenge' : 'awaiting-hello';
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close(this.closeReason || 'connection closed by peer'));
    this.handshakeTimer = setTimeout(() => this.close('handshake timed out'), options.handshakeTimeoutMs ?? 5000);
    if ('dial' in side) {
      this.remoteRole = side.dial.role;
      const { role, name, features = [] } = options;
      this.writeNow({ hello: { role, name, nonce: this.ourNonce, version: PROTOCOL_VERSION, features, target: side.dial.address } });
    }
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Bytes queued but not yet taken by the kernel: the basis for flow control. */
  get pendingBytes(): number {
    return this.outbox.bytes + this.socket.writableLength;
  }

  /** Resolves once the socket has taken what is queued (at once when little is): lets a producer slow down. */
  whenDrained(): Promise<void> {
    if (this.pendingBytes <= DRAINED_BELOW_BYTES || this.phase === 'closed') return RESOLVED;
    this.flush();
    // One promise for every waiter, so a thousand awaiting handlers add one listener, not a thousand.
    this.drained ??= new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.off('close', done);
        this.drained = undefined;
        resolve();
      };
      this.socket.on('drain', done);
      this.on('close', done);
    });
    return this.drained;
  }

  send(envelope: Envelope): void {
    if (this.phase !== 'ready') return;
    this.outbox.add(envelope);
    if (this.outbox.bytes >= FLUSH_AT_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  close(reason: string): void {
    if (this.phase === 'closed') return;
    const wasReady = this.phase === 'ready';
    this.phase = 'closed';
    this.closeReason = reason;
    clearTimeout(this.handshakeTimer);
    clearInterval(this.heartbeatTimer);
    if (wasReady) this.flush();
    this.socket.end();
    // A peer that stops reading must not keep the socket (and its buffers) alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.emit('close', reason);
  }

  private flush(): void {
    if (this.outbox.empty || this.socket.destroyed) return;
    this.lastSent = Date.now();
    this.socket.write(this.outbox.take());
  }

  private writeNow(envelope: Envelope): void {
    this.socket.write(encodeEnvelopeFrame(envelope));
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.lastReceived = Date.now();
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.refuse(`bad frame: ${(error as Error).message}`);
      return;
    }
    for (const frame of frames) {
      let envelope: Envelope;
      try {
        envelope = decodeEnvelope(frame);
      } catch (error) {
        this.refuse(`undecodable frame: ${(error as Error).message}`);
        return;
      }
      if (this.phase === 'ready') {
        const kind = envelopeKind(envelope);
        if (kind === undefined || !this.receives.has(kind)) {
          this.refuse(`unexpected ${kind ?? 'empty envelope'} from a ${Role[this.remoteRole]} (to a ${Role[this.options.role]})`);
          return;
        }
        if (kind !== 'heartbeat') this.emit('envelope', envelope);
      } else {
        this.handshakeStep(envelope);
      }
      if ((this.phase as Phase) === 'closed') return;
    }
  }

  private handshakeStep(envelope: Envelope): void {
    const { secret } = this.options;
    switch (this.phase) {
      case 'awaiting-hello': {
        const hello = envelope.hello;
        if (!hello) return this.refuse('expected Hello');
        if (hello.version !== PROTOCOL_VERSION) {
          return this.refuse(`unsupported protocol version ${hello.version}: this ${Role[this.options.role]} speaks version ${PROTOCOL_VERSION}`);
        }
        const role = hello.role ?? Role.Unspecified;
        if (!dialersOf(this.options.role).includes(role)) return this.refuse(`role ${Role[role] ?? role} may not connect here`);
        const own = (this.side as { accept: OwnAddress }).accept;
        this.remoteRole = role;
        this.remoteName = hello.name ?? '';
        if (!own.matches(hello.target ?? '')) {
          return this.refuse(`dialed ${JSON.stringify(hello.target ?? '')}, which is not this ${Role[this.options.role]} (${own.description}): relayed or misdirected`);
        }
        this.remoteFeatures = hello.features ?? [];
        this.transcript = {
          dialerRole: role,
          listenerRole: this.options.role,
          target: hello.target ?? '',
          dialerNonce: Buffer.from(hello.nonce ?? []),
          listenerNonce: this.ourNonce,
          channelBinding: channelBindingOf(this.socket),
        };
        this.writeNow({ challenge: { nonce: this.ourNonce, proof: listenerProof(secret, this.transcript), role: this.options.role } });
        this.phase = 'awaiting-auth';
        return;
      }
      case 'awaiting-auth': {
        // A dialer that rejects our Challenge (another secret, or a relayed handshake) says so: log its reason.
        if (envelope.refused) return this.refuse(`peer refused our challenge: ${envelope.refused.reason}`);
        if (!envelope.auth) return this.refuse('expected Auth');
        if (!proofsMatch(dialerProof(secret, this.transcript!), envelope.auth.proof)) {
          return this.refuse('authentication failed: wrong shared secret, or a handshake relayed from another connection');
        }
        this.writeNow({ welcome: {} });
        return this.becomeReady();
      }
      case 'awaiting-challenge': {
        if (envelope.refused) return this.close(`refused by peer: ${envelope.refused.reason}`);
        const challenge = envelope.challenge;
        if (!challenge) return this.refuse('expected Challenge');
        const dial = (this.side as { dial: DialTarget }).dial;
        if (challenge.role !== dial.role) {
          return this.refuse(`expected a ${Role[dial.role]} at ${dial.address}, reached a ${Role[challenge.role ?? Role.Unspecified] ?? challenge.role}`);
        }
        this.transcript = {
          dialerRole: this.options.role,
          listenerRole: dial.role,
          target: dial.address,
          dialerNonce: this.ourNonce,
          listenerNonce: Buffer.from(challenge.nonce ?? []),
          channelBinding: channelBindingOf(this.socket),
        };
        if (!proofsMatch(listenerProof(secret, this.transcript), challenge.proof)) {
          return this.refuse(`authentication failed: the peer at ${dial.address} does not hold the shared secret, or relays another connection's handshake`);
        }
        this.writeNow({ auth: { proof: dialerProof(secret, this.transcript) } });
        this.phase = 'awaiting-welcome';
        return;
      }
      case 'awaiting-welcome': {
        if (envelope.refused) return this.close(`refused by peer: ${envelope.refused.reason}`);
        if (!envelope.welcome) return this.refuse('expected Welcome');
        return this.becomeReady();
      }
    }
  }

  private becomeReady(): void {
    clearTimeout(this.handshakeTimer);
    this.receives = receivable(this.remoteRole, this.options.role);
    this.decoder.maxFrameBytes = this.options.maxFrameBytes;
    this.phase = 'ready';
    const heartbeatMs = this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.heartbeatTimer = setInterval(() => this.heartbeat(heartbeatMs), heartbeatMs);
    this.heartbeatTimer.unref();
    this.emit('ready');
  }

  /**
   * Closes the connection now if the peer has been silent for three heartbeat intervals, as the heartbeat timer
   * would once it runs: after this process was blocked, its peer has taken it for gone. Whether it is still open.
   */
  checkAlive(): boolean {
    if (this.phase !== 'ready') return this.phase !== 'closed';
    this.closeIfSilent(Date.now(), this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    return this.phase === 'ready';
  }

  private heartbeat(intervalMs: number): void {
    const now = Date.now();
    if (this.closeIfSilent(now, intervalMs)) return;
    if (now - this.lastSent >= intervalMs) this.send({ heartbeat: {} });
  }

  /** A peer silent for three heartbeat intervals is taken for gone; whether it was (and the connection closed). */
  private closeIfSilent(now: number, intervalMs: number): boolean {
    if (now - this.lastReceived <= intervalMs * 3) return false;
    this.close('peer silent for three heartbeat intervals');
    return true;
  }

  /** Logs why, tells the peer when the handshake is still going, and closes this one connection. */
  private refuse(reason: string): void {
    this.options.log.warn('internal connection refused', {
      reason,
      remote: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
      peerRole: Role[this.remoteRole],
      peerName: this.remoteName,
    });
    if (this.phase !== 'ready' && !this.socket.destroyed) this.writeNow({ refused: { reason } });
    this.close(reason);
  }
}

/** PeerOptions' heartbeat from a setting in seconds (the default when unset). */
export function heartbeat(intervalSeconds: number | undefined): { heartbeatMs?: number } {
  return intervalSeconds === undefined ? {} : { heartbeatMs: intervalSeconds * 1000 };
}
