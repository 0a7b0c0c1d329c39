import { EventEmitter } from 'node:events';
import { parseAddress } from '../net/address.js';
import type { CloseCause, CloseCode } from './close-cause.js';
import { PeerConnection, type PeerOptions } from './peer-connection.js';
import { plainSockets, type PeerSockets } from './peer-sockets.js';
import type { Envelope, Role } from './types.js';

export interface DialOptions extends PeerOptions {
  /** Plain TCP when unset. */
  sockets?: PeerSockets | undefined;
}

/** What a dialer logs as a refusal (an error) rather than a failed attempt: the peer would not have us, or could not prove itself. */
const REFUSALS: ReadonlySet<CloseCode> = new Set(['REFUSED_BY_PEER', 'AUTH_FAILED']);

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

/**
 * Keeps one authenticated connection to the `peerRole` at `address` alive, redialling with jittered exponential backoff.
 * Events: 'ready' (conn), 'envelope' (env), 'down' (cause: CloseCause, wasReady) after every closed attempt.
 */
export class ReconnectingPeer extends EventEmitter {
  current: PeerConnection | undefined;
  /** A connection was up at some point: a link down now has lost its peer, rather than not reached it yet. */
  hasBeenReady = false;
  private attempt = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];

  constructor(
    readonly address: string,
    readonly peerRole: Role,
    private readonly options: DialOptions,
    private readonly backoff: BackoffOptions = {},
  ) {
    super();
  }

  start(): this {
    this.dial();
    return this;
  }

  get ready(): boolean {
    return this.current?.ready ?? false;
  }

  /** Not connected, and either it was and lost the peer, or a dial has failed since: not one still on its way. */
  get unreachable(): boolean {
    return !this.ready && (this.hasBeenReady || this.attempt > 0 || this.stopped);
  }

  /** Sends when connected; returns false (and sends nothing) otherwise. */
  send(envelope: Envelope): boolean {
    if (!this.current?.ready) return false;
    this.current.send(envelope);
    return true;
  }

  /** Resolves when a connection is ready; rejects after `timeoutMs`, or at once when the link is stopped meanwhile. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`connection to ${this.address} is stopped`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no connection to ${this.address} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  stop(reason = 'stopped'): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.current?.close(reason);
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`connection to ${this.address} stopped: ${reason}`));
  }

  private dial(): void {
    if (this.stopped) return;
    let target;
    try {
      target = parseAddress(this.address);
    } catch (error) {
      this.options.log.error('cannot dial', { address: this.address, error });
      return;
    }
    const socket = (this.options.sockets ?? plainSockets).connect(target.host, target.port);
    const conn = new PeerConnection(socket, { dial: { address: this.address, role: this.peerRole } }, this.options);
    this.current = conn;
    let wasReady = false;
    conn.on('ready', () => {
      wasReady = true;
      this.hasBeenReady = true;
      this.attempt = 0;
      this.emit('ready', conn);
      for (const waiter of this.waiters.splice(0)) waiter.resolve();
    });
    conn.on('envelope', (envelope: Envelope) => this.emit('envelope', envelope));
    conn.on('close', (cause: CloseCause) => {
      if (this.current === conn) this.current = undefined;
      const fields = { address: this.address, reason: cause.detail, code: cause.code };
      if (wasReady) this.options.log.info('connection lost', { logEvent: 'connection-lost', ...fields });
      else if (REFUSALS.has(cause.code)) this.options.log.error('connection refused', { logEvent: 'connection-refused', ...fields });
      this.emit('down', cause, wasReady);
      this.scheduleRedial();
    });
  }

  private scheduleRedial(): void {
    if (this.stopped) return;
    const initial = this.backoff.initialMs ?? 100;
    const max = this.backoff.maxMs ?? 5000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt++;
    const delay = base * (0.8 + Math.random() * 0.4);
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }
}
