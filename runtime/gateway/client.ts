import type { Logger, LogFields } from '../observability/log.js';
import { EMPTY_SESSION } from '../wire/session.js';
import { CLOSED_TRANSPORT, type ClientHandle, type ClientTransport } from './client-transport.js';
import { DeliveryState, type ReadingControl } from './delivery-state.js';
import { CLOSE_GRACE_MS, DISCONNECTS, type Disconnect } from './disconnects.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { PendingUpgradeTransport } from './client-protocols/pending-upgrade-transport.js';

/** The per-client limits of a gateway (its settings). */
export interface ClientLimits {
  /** A client sending more messages than this within one second is closed (0: no limit). */
  maxMessagesPerSecond: number;
  /** A client leaving more than this many bytes unread is closed instead of buffered further. */
  maxSendBuffer: number;
  /** Heartbeats a client may stay silent for before it is dropped (0: never). */
  pingNotResponseLimit: number;
  /** Sent as a message at each heartbeat; unset: a protocol-level ping where the protocol has one. */
  pingData: Buffer | undefined;
}

/** What a gateway's clients share: the limits, where they are counted and logged, and who hears that one left. */
export interface ClientContext {
  readonly limits: ClientLimits;
  readonly metrics: Pick<GatewayMetrics, 'connectionsRefused' | 'slowClientsClosed' | 'messagesReceived' | 'messagesSent'>;
  readonly log: Logger;
  /** The client's connection is over: the gateway takes it out of its indexes and sends its Close to a worker. */
  left(client: Client): void;
}

/** A client's uid and groups. ClientRegistry's alone to change (it keeps its indexes consistent with them). */
export class Membership {
  uid: string | undefined;
  /** Made on the first join: many clients never join a group, and an empty Set costs as much as the rest of a client. */
  groups: Set<string> | undefined;
}

const NO_GROUPS: ReadonlySet<string> = new Set();

/**
 * The rate limit's clock: Date.now() in milliseconds modulo 2^30 (12.4 days), a small integer V8 keeps in the client
 * itself. Date.now() is a double, which V8 keeps in a box of its own: once any client had sent a message, every client
 * of the gateway carried one (16 bytes each). A window's age is its difference modulo 2^30, exact for any message
 * less than 12.4 days after the window began; a later one within a second of a multiple of 12.4 days is counted in
 * that old window.
 */
const RATE_CLOCK_MASK = 2 ** 30 - 1;
const rateClock = () => Date.now() & RATE_CLOCK_MASK;

/** Client.state: three flags in its low bits, the heartbeat intervals since the client last sent anything above them. */
const STOPPED = 1;
const READING_PAUSED = 2;
const LEFT = 4;
const FLAGS = STOPPED | READING_PAUSED | LEFT;
const SILENT_SHIFT = 3;

/**
 * One client connection, from its accept to its Close. Its own state changes only in here: what others need of it
 * are the methods below. Two parts belong to others, who alone change them: `deliveryState` to event delivery and the
 * router, `membership` to the ClientRegistry (test/unit/client-ownership.test.ts holds every other file to that).
 * The gateway ends a client only through close(disconnect), with a row of disconnects.ts.
 */
export abstract class Client extends DeliveryState implements ClientHandle, ReadingControl {
  /** Made when first changed: many clients never bind a uid nor join a group. */
  private member: Membership | undefined;
  /** The session as JSON bytes; empty when none was ever set. */
  private sessionJson: Buffer = EMPTY_SESSION;
  private version = 0;
  /** Start (on the rate clock, see rateClock) and count of the current one-second window of the message rate limit. */
  private rateWindowStart = 0;
  private rateWindowCount = 0;
  /** The three flags and the heartbeat count below, in one field (8 bytes per connection rather than 32). */
  private state = 0;

  constructor(
    readonly id: string,
    /** Replaced once when a WebSocket upgrade that awaited a worker's verdict completes, and when the client leaves. */
    private transport: ClientTransport,
  ) {
    super();
  }

  /** Event delivery's part of the client (see DeliveryState): the client itself, reached by this name alone. */
  get deliveryState(): DeliveryState {
    return this;
  }

  /** What the gateway's clients share: on the prototype of its class of clients (clientClass), not in each client. */
  protected abstract get context(): ClientContext;

  /** Closed with `stop-reading` (see disconnects.ts), or left: nothing more is read from it or sent to it. */
  private get stopped(): boolean {
    return (this.state & STOPPED) !== 0;
  }

  private get hasLeft(): boolean {
    return (this.state & LEFT) !== 0;
  }

  private get readingPaused(): boolean {
    return (this.state & READING_PAUSED) !== 0;
  }

  /** Heartbeat intervals since the client last sent anything. */
  private get silentIntervals(): number {
    return this.state >>> SILENT_SHIFT;
  }

  private setFlag(flag: number, on: boolean): void {
    this.state = on ? this.state | flag : this.state & ~flag;
  }

  private heardFrom(): void {
    this.state &= FLAGS;
  }

  /** The ClientRegistry's to change (see Membership). */
  get membership(): Membership {
    return (this.member ??= new Membership());
  }

  get uid(): string | undefined {
    return this.member?.uid;
  }

  get groups(): ReadonlySet<string> {
    return this.member?.groups ?? NO_GROUPS;
  }

  get session(): Buffer {
    return this.sessionJson;
  }

  /** Times the session was written: a worker tells the newest session it has seen by it. */
  get sessionVersion(): number {
    return this.version;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get remotePort(): number {
    return this.transport.remotePort;
  }

  /** Its connection is over and its Close dispatched. */
  get gone(): boolean {
    return this.hasLeft;
  }

  /** Not read from: its events wait for a worker (see DeliveryState). */
  get paused(): boolean {
    return this.readingPaused;
  }

  storeSession(json: Buffer): void {
    this.sessionJson = json;
    this.version++;
  }

  /** A message came from the client: whether it goes on to a worker. Past the message rate, the client is closed. */
  admit(): boolean {
    if (this.stopped) return false;
    const { maxMessagesPerSecond } = this.context.limits;
    if (maxMessagesPerSecond > 0 && this.overRate(maxMessagesPerSecond)) return false;
    this.heardFrom();
    this.context.metrics.messagesReceived.count++;
    return true;
  }

  /** Traffic that is not a message but proves the client alive (a pong). */
  alive(): void {
    this.heardFrom();
  }

  /** Sends to the client; one that leaves more than maxSendBuffer unread is closed rather than buffered without bound. */
  send(data: Buffer, binary: boolean): void {
    if (!this.canTake(data.length)) return;
    this.context.metrics.messagesSent.count++;
    this.transport.sendMessage(data, binary);
  }

  /**
   * Answers the client's ping with a pong (ws's automatic answer is off: it costs every connection a closure and
   * three fields). Bounded as a message is (canTake): a client pinging without reading is closed past maxSendBuffer
   * unread, where ws closed it past 60 pongs unwritten.
   */
  answerPing(data: Buffer): void {
    if (this.canTake(data.length)) this.transport.pong(data);
  }

  /** Whether `bytes` more may be written to the client: not once it is stopped, nor past maxSendBuffer unread (then it is closed as a slow client). */
  private canTake(bytes: number): boolean {
    if (this.stopped) return false;
    const { maxSendBuffer } = this.context.limits;
    const bufferedBytes = this.transport.bufferedBytes;
    if (bufferedBytes + bytes <= maxSendBuffer) return true;
    this.close(DISCONNECTS.slowClient, { bufferedBytes, maxSendBuffer });
    return false;
  }

  /** One heartbeat: pinged, or dropped when silent for pingNotResponseLimit of them. */
  heartbeat(): void {
    // A client held back while its worker is busy is not read from, so its silence proves nothing.
    if (this.readingPaused) return;
    const { pingNotResponseLimit, pingData } = this.context.limits;
    if (pingNotResponseLimit > 0 && this.silentIntervals >= pingNotResponseLimit) return this.close(DISCONNECTS.heartbeatTimeout);
    this.state += 1 << SILENT_SHIFT;
    this.transport.heartbeat(pingData);
  }

  pauseReading(): void {
    this.setFlag(READING_PAUSED, true);
    this.transport.pause();
  }

  resumeReading(): void {
    this.setFlag(READING_PAUSED, false);
    this.transport.resume();
  }

  /** The upgrade it waited for completed on `transport`; what it was sent meanwhile goes there now. */
  upgraded(transport: ClientTransport): void {
    if (this.hasLeft) return transport.destroy();
    (this.transport as PendingUpgradeTransport).handOver(transport);
    this.transport = transport;
  }

  /**
   * The one way the gateway ends a client: counted, logged and carried out as the row says. A client that has left
   * is past ending; one closed with `stop-reading` is so once.
   */
  close(disconnect: Disconnect, detail?: LogFields): void {
    if (this.hasLeft) return;
    if (disconnect.ending === 'stop-reading') {
      if (this.stopped) return;
      this.setFlag(STOPPED, true);
    }
    const { counted, log } = disconnect;
    if (counted === 'slow-client') this.context.metrics.slowClientsClosed.inc();
    else if (counted) this.context.metrics.connectionsRefused.inc({ reason: counted });
    if (log) this.context.log[log.level](log.message, { ...(log.logEvent ? { logEvent: log.logEvent } : {}), clientId: this.id, ...detail });
    switch (disconnect.ending) {
      case 'read-on':
        return this.transport.closeWith(disconnect.frame);
      case 'stop-reading':
        this.transport.closeWith(disconnect.frame);
        setTimeout(() => this.transport.destroy(), CLOSE_GRACE_MS).unref();
        return;
      case 'drop':
        return this.transport.destroy();
      case 'upgrade-refused':
        return this.left();
    }
  }

  /** Its connection is over (its listener saw it close, or its upgrade was refused): it leaves the gateway, once. */
  left(): void {
    if (this.hasLeft) return;
    this.setFlag(LEFT | STOPPED, true);
    this.context.left(this);
    // The connection's objects (socket, WebSocket, buffers) can be collected while its Close waits for a worker.
    this.transport = CLOSED_TRANSPORT;
  }

  /** Counts the message in the current one-second window; closes a client past the limit. */
  private overRate(limit: number): boolean {
    const now = rateClock();
    // No message counted yet: no window either (a start of 0 may be less than a second ago on the rate clock).
    if (this.rateWindowCount === 0 || ((now - this.rateWindowStart) & RATE_CLOCK_MASK) >= 1000) {
      this.rateWindowStart = now;
      this.rateWindowCount = 0;
    }
    if (++this.rateWindowCount <= limit) return false;
    this.close(DISCONNECTS.rateLimit, { limit });
    return true;
  }
}

/** The class of one gateway's clients: their shared context on its prototype rather than in each (8 bytes per connection). */
export function clientClass(context: ClientContext): new (id: string, transport: ClientTransport) => Client {
  return class extends Client {
    protected get context(): ClientContext {
      return context;
    }
  };
}
