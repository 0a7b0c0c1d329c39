import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from '../observability/log.js';
import { closeCause, type CloseCause } from './close-cause.js';
import { EnvelopeReader } from './envelope-reader.js';
import { channelBindingOf } from './handshake.js';
import { DEFAULT_HEARTBEAT_SECONDS, Liveness } from './liveness.js';
import { Outbox } from './outbox.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, Handshake, type HandshakeStep, type PeerSide } from './peer-handshake.js';
import { Role, type Envelope } from './types.js';

export type { DialTarget, OwnAddress, PeerSide } from './peer-handshake.js';

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

/** A peer that stops reading must not keep a closed socket (and its buffers) alive longer than this. */
const CLOSE_GRACE_MS = 1000;

/**
 * One authenticated internal connection carrying Envelopes in length-delimited frames, put together as ws puts a
 * socket together: a Handshake (pure), an EnvelopeReader (frames, decoding, role admission), an Outbox (batched
 * writes, backpressure) and Liveness (heartbeats).
 * Events: 'ready' (after the handshake), 'envelope' (env), 'close' (cause: CloseCause).
 */
export class PeerConnection extends EventEmitter {
  closeCause: CloseCause | undefined;
  private state: 'handshake' | 'ready' | 'closed' = 'handshake';
  private readonly handshake: Handshake;
  private readonly reader = new EnvelopeReader();
  private readonly outbox: Outbox;
  private readonly liveness: Liveness;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly take = (envelope: Envelope) => this.onEnvelope(envelope);

  constructor(
    readonly socket: Socket,
    side: PeerSide,
    private readonly options: PeerOptions,
  ) {
    super();
    this.handshake = new Handshake(side, options, () => channelBindingOf(socket));
    this.outbox = new Outbox(socket);
    this.liveness = new Liveness(options.heartbeatMs ?? DEFAULT_HEARTBEAT_SECONDS * 1000, {
      lastSent: () => this.outbox.lastSent,
      sendHeartbeat: () => this.send({ heartbeat: {} }),
      silent: (cause) => this.close(cause),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(closeCause('SOCKET_ERROR', `socket error: ${error.message}`)));
    socket.on('close', () => this.close(closeCause('CLOSED_BY_PEER', 'connection closed by peer')));
    const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.handshakeTimer = setTimeout(() => this.close(closeCause('HANDSHAKE_TIMEOUT', 'handshake timed out')), timeoutMs);
    const hello = this.handshake.opening();
    if (hello) this.outbox.writeNow(hello);
  }

  get remoteRole(): Role {
    return this.handshake.remoteRole;
  }

  get remoteName(): string {
    return this.handshake.remoteName;
  }

  /** What the dialer's Hello offered (a listener's view; see Hello.features in gwc.proto). */
  get remoteFeatures(): readonly string[] {
    return this.handshake.remoteFeatures;
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes queued but not yet taken by the kernel: the basis for flow control. */
  get pendingBytes(): number {
    return this.outbox.pendingBytes;
  }

  /** Resolves once the socket has taken what is queued (at once when little is): lets a producer slow down. */
  whenDrained(): Promise<void> {
    return this.outbox.whenDrained();
  }

  /** Queued for the next write once ready; dropped before the handshake is done and after the connection closed. */
  send(envelope: Envelope): void {
    if (this.state === 'ready') this.outbox.add(envelope);
  }

  /** Closes the connection, for `reason` (a text: closed by its owner, STOPPED) or `cause`. */
  close(reason: CloseCause | string): void {
    if (this.state === 'closed') return;
    const cause = typeof reason === 'string' ? closeCause('STOPPED', reason) : reason;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.closeCause = cause;
    clearTimeout(this.handshakeTimer);
    this.liveness.stop();
    if (wasReady) this.outbox.flush();
    this.outbox.close();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    this.emit('close', cause);
  }

  /**
   * Closes the connection now if the peer has been silent for three heartbeat intervals, as the heartbeat timer
   * would once it runs: after this process was blocked, its peer has taken it for gone. Whether it is still open.
   */
  checkAlive(): boolean {
    if (this.state !== 'ready') return this.state !== 'closed';
    this.liveness.check();
    return this.state === 'ready';
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.liveness.received();
    const refused = this.reader.read(chunk, this.take);
    if (refused) this.refuse(refused);
  }

  /** An envelope read: the handshake's while it runs, then the listeners'. Whether to read on. */
  private onEnvelope(envelope: Envelope): boolean {
    if (this.state === 'ready') this.emit('envelope', envelope);
    else this.handshakeStep(this.handshake.receive(envelope));
    return this.state !== 'closed';
  }

  private handshakeStep(step: HandshakeStep): void {
    switch (step.next) {
      case 'send':
        return this.outbox.writeNow(step.envelope);
      case 'ready':
        if (step.envelope) this.outbox.writeNow(step.envelope);
        return this.becomeReady();
      case 'refuse':
        return this.refuse(step.cause);
      case 'close':
        return this.close(step.cause);
    }
  }

  private becomeReady(): void {
    clearTimeout(this.handshakeTimer);
    this.reader.authenticated(this.remoteRole, this.options.role, this.options.maxFrameBytes);
    this.state = 'ready';
    this.liveness.start();
    this.emit('ready');
  }

  /** Logs why, tells the peer when the handshake is still going, and closes this one connection. */
  private refuse(cause: CloseCause): void {
    this.options.log.warn('internal connection refused', {
      logEvent: 'peer-refused',
      reason: cause.detail,
      code: cause.code,
      remote: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
      peerRole: Role[this.remoteRole],
      peerName: this.remoteName,
    });
    if (this.state !== 'ready' && !this.socket.destroyed) this.outbox.writeNow({ refused: { reason: cause.detail } });
    this.close(cause);
  }
}

/** PeerOptions' heartbeat from a setting in seconds (the default when unset). */
export function heartbeat(intervalSeconds: number | undefined): { heartbeatMs?: number } {
  return intervalSeconds === undefined ? {} : { heartbeatMs: intervalSeconds * 1000 };
}
