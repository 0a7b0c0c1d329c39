import type { Logger } from '../observability/log.js';
import { SESSION_TOO_DEEP, sessionJsonTooDeep, sessionTooDeep } from '../wire/session-depth.js';
import { EMPTY_SESSION_TEXT, parseSession, type Session } from '../wire/session.js';
import { messageIdOf } from '../wire/message-id.js';
import { EventKind, toNumber, type ClientEvent, type Envelope, type SessionUpdate } from '../wire/types.js';
import { AckBatcher } from './ack-batcher.js';
import { ClientEventContext } from './event-context.js';
import type { Handler } from './handler.js';
import { RefuseConnection } from './refuse-connection.js';
import type { WorkerGatewayClient } from './worker-gateway-client.js';
import { applySessionChanges, sessionChanges, type SessionChanges } from './session-changes.js';
import { websocketRequest } from './websocket-request.js';

/**
 * One client's events, the first of which is running; none once they are done. An idle queue is kept a second or two
 * (until the next sweep past KEEP_IDLE_MS), so a client sending again soon reuses it: no queue, array, callbacks or
 * map entry made and dropped per event. A queue given up (its event abandoned, or its gateway lost) is
 * no longer live: what its callback does after that is not followed, and its client's next events run in another.
 */
class ClientQueue {
  readonly events: ClientEvent[];
  /**
   * The newest session known for the client (JSON text, EMPTY_SESSION_TEXT for none) and the gateway's version of it:
   * what the last callback left, or a newer one from an event or a SessionUpdate (someone else wrote it since).
   */
  session = EMPTY_SESSION_TEXT;
  sessionVersion = 0;
  /** When the running event started (performance.now(): one clock read per event serves this and its duration). */
  startedAt = 0;
  /** Whether the running event was reported as slow. */
  reported = false;
  /** When the queue last became idle (performance.now()). */
  doneAt = 0;
  live = true;
  /** The running event's ctx while its callback's promise is pending and its session is still to be saved after it. */
  unsaved: ClientEventContext | undefined = undefined;
  /** What the running event's pending promise calls when it settles: made once per queue, not once per event. */
  readonly settled: () => void;
  readonly failed: (error: unknown) => void;

  constructor(
    readonly clientId: string,
    readonly gatewayAddress: string,
    first: ClientEvent,
    dispatcher: EventDispatcher,
  ) {
    this.events = [first];
    this.settled = () => dispatcher.settled(this, false, undefined);
    this.failed = (error) => dispatcher.settled(this, true, error);
  }
}

export interface DispatchStats {
  handled: number;
  failed: number;
  slow: number;
  abandoned: number;
  /** Events dropped because their gateway's connection was lost (it redelivers them elsewhere). */
  dropped: number;
}

export interface DispatchTimeouts {
  /** A callback running this long is reported once, as GatewayWorker's processTimeout. */
  processTimeoutMs: number;
  /** A callback running this long is given up: its event is acknowledged and the client's next one runs (0: never). */
  abandonTimeoutMs: number;
}

/** A callback that ran longer than this may have blocked the process past a gateway's heartbeat timeout. */
const LONG_CALLBACK_MS = 100;
/** An idle queue this old is dropped at the next sweep (checkRunning). */
const KEEP_IDLE_MS = 1000;

export interface DispatchHooks {
  /** Seconds each callback took, returned or thrown (not those given up). */
  observeDuration?(seconds: number): void;
  /** Checks the connection to a gateway after a long callback; one found dead is closed (and gatewayLost follows). */
  checkGateway?(gatewayAddress: string): void;
}
const ACCEPT = { status: 0, reason: '' };

/**
 * Runs handler callbacks for client events: one client's events strictly one after another (in arrival
 * order), different clients concurrently. A callback that throws is logged with the client id; one that runs
 * past `processTimeoutMs` is reported once, as GatewayWorker's processTimeout does, and one still running after
 * `abandonTimeoutMs` is given up (GatewayWorker's processTimeoutHandler): its event is acknowledged and the
 * client's next event runs, while the callback goes on unobserved (its session changes are no longer saved).
 * Every other event is acknowledged to its gateway once its callback has returned or thrown; until then the
 * gateway keeps it to redeliver should this worker die.
 */
export class EventDispatcher {
  readonly stats: DispatchStats = { handled: 0, failed: 0, slow: 0, abandoned: 0, dropped: 0 };
  private readonly queues = new Map<string, ClientQueue>();
  private readonly slowTimer: NodeJS.Timeout;
  private readonly acks: AckBatcher;
  private readonly processTimeoutMs: number;
  private readonly abandonTimeoutMs: number;

  constructor(
    private readonly handler: Handler,
    private readonly gateway: WorkerGatewayClient,
    private readonly log: Logger,
    timeouts: DispatchTimeouts,
    private readonly sendToGateway: (gatewayAddress: string, envelope: Envelope) => void,
    private readonly hooks: DispatchHooks = {},
  ) {
    this.processTimeoutMs = timeouts.processTimeoutMs;
    this.abandonTimeoutMs = timeouts.abandonTimeoutMs;
    this.acks = new AckBatcher(sendToGateway);
    const checkEvery = Math.min(1000, this.processTimeoutMs, this.abandonTimeoutMs || Infinity);
    this.slowTimer = setInterval(() => this.checkRunning(), checkEvery);
    this.slowTimer.unref();
  }

  /** Events queued or running. */
  get inFlight(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.events.length;
    return count;
  }

  dispatch(gatewayAddress: string, event: ClientEvent): void {
    const clientId = event.clientId ?? '';
    const queue = this.queues.get(clientId);
    if (queue && (queue.events.length > 0 || queue.gatewayAddress === gatewayAddress)) {
      queue.events.push(event);
      this.takeNewer(clientId, queue, event.session, event.sessionVersion);
      if (queue.events.length === 1) this.run(queue);
      return;
    }
    const fresh = new ClientQueue(clientId, gatewayAddress, event, this);
    this.takeNewer(clientId, fresh, event.session, event.sessionVersion);
    this.queues.set(clientId, fresh);
    this.run(fresh);
  }

  /** A session written on the gateway while this worker holds the client's events. */
  sessionUpdated(gatewayAddress: string, update: SessionUpdate): void {
    const queue = this.queues.get(update.clientId ?? '');
    if (queue && queue.gatewayAddress === gatewayAddress) this.takeNewer(update.clientId ?? '', queue, update.session, update.sessionVersion);
  }

  /**
   * Takes the session an event or SessionUpdate carries when the gateway wrote it after the one the queue has. One past
   * the depth limit (a gateway of ours never stores one) is not taken: the callbacks go on with the session this worker
   * had for the client (empty when it had none).
   */
  private takeNewer(clientId: string, queue: ClientQueue, session: Uint8Array | undefined, version: number | undefined): void {
    if (version === undefined || version <= queue.sessionVersion) return;
    queue.sessionVersion = version;
    if (session && sessionJsonTooDeep(session)) {
      this.log.error(`session from the gateway not taken: ${SESSION_TOO_DEEP}`, { logEvent: 'session-not-taken', clientId, gateway: queue.gatewayAddress });
      return;
    }
    queue.session = session && session.length > 0 ? asBuffer(session).toString('utf8') : EMPTY_SESSION_TEXT;
  }

  /**
   * The connection to a gateway is lost: it sends what this worker had not acknowledged to other workers, so the
   * events of its clients queued here are dropped, and a callback still running for one of them is no longer
   * followed (nothing more of that client runs here, and no second worker handles it at the same time as this one).
   */
  gatewayLost(gatewayAddress: string): void {
    let dropped = 0;
    let clients = 0;
    for (const [clientId, queue] of this.queues) {
      if (queue.gatewayAddress !== gatewayAddress) continue;
      queue.live = false;
      this.queues.delete(clientId);
      if (queue.events.length === 0) continue; // idle: nothing of it here
      clients++;
      dropped += queue.events.length - 1; // the first is the one running (or just done)
      queue.events.length = 0;
    }
    if (clients === 0) return;
    this.stats.dropped += dropped;
    this.log.warn('gateway lost: its events here are dropped, it sends them to other workers', { logEvent: 'gateway-lost', gateway: gatewayAddress, clients, dropped });
  }

  /** Resolves when nothing is queued or running (or after `timeoutMs`). */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  stop(): void {
    clearInterval(this.slowTimer);
  }

  /** Acknowledges now what is handled, rather than at the end of this event-loop turn. */
  flushAcks(): void {
    this.acks.flush();
  }

  /**
   * Runs the queue's events one after another, each as soon as the one before is done: in this call while callbacks
   * return at once (no promise, no turn of the microtask queue), and from `settled` after one that returned a promise.
   */
  private run(queue: ClientQueue): void {
    const events = queue.events;
    while (events.length > 0) {
      queue.startedAt = performance.now();
      queue.reported = false;
      let pending: Promise<void> | undefined;
      try {
        pending = this.start(events[0]!, queue);
      } catch (error) {
        if (this.finish(queue, true, error)) continue;
        return;
      }
      if (pending) {
        pending.then(queue.settled, queue.failed);
        return;
      }
      if (!this.finish(queue, false, undefined)) return;
    }
  }

  /** The running event's pending promise settled: its session is saved if still due, then the queue goes on. */
  settled(queue: ClientQueue, threw: boolean, error: unknown): void {
    if (!queue.live) return; // given up meanwhile: acknowledged, and the client's events went on without it
    const ctx = queue.unsaved;
    queue.unsaved = undefined;
    if (ctx && !threw) {
      let saving: Promise<void> | undefined;
      try {
        saving = this.saveSession(ctx, queue);
      } catch (saveError) {
        threw = true;
        error = saveError;
      }
      if (saving) {
        saving.then(queue.settled, queue.failed);
        return;
      }
    }
    if (this.finish(queue, threw, error)) this.run(queue);
  }

  /** The running event is done: counted, timed and acknowledged. False when the queue is no longer live. */
  private finish(queue: ClientQueue, threw: boolean, error: unknown): boolean {
    const event = queue.events[0]!;
    if (threw) {
      this.stats.failed++;
      this.log.error('handler threw', { logEvent: 'handler-threw', clientId: queue.clientId, event: kindName(event), error });
    } else {
      this.stats.handled++;
    }
    const doneAt = performance.now();
    const tookMs = doneAt - queue.startedAt;
    this.hooks.observeDuration?.(tookMs / 1000);
    // A callback that held this process long may have outlasted the gateway's patience: ask the link now, before
    // the next event, whether the gateway took this worker for gone (and so sent these events to another).
    if (tookMs > LONG_CALLBACK_MS) this.hooks.checkGateway?.(queue.gatewayAddress);
    if (!queue.live) return false;
    this.acks.add(queue.gatewayAddress, toNumber(event.sequence));
    queue.events.shift();
    queue.doneAt = doneAt;
    // A closed client sends nothing more: its queue goes now rather than at the sweep.
    if (event.kind === EventKind.Close && queue.events.length === 0) {
      queue.live = false;
      this.queues.delete(queue.clientId);
      return false;
    }
    return true;
  }

  /**
   * Calls the event's callback. Returns what is still pending once it returned (its promise, or the saving of its
   * session), or undefined when the event is done already; throws what the callback threw.
   */
  private start(event: ClientEvent, queue: ClientQueue): Promise<void> | undefined {
    const handler = this.handler;
    const clientId = queue.clientId;
    const ctx = new ClientEventContext(
      clientId,
      queue.session,
      this.gateway,
      event.remoteAddress ?? '',
      event.remotePort ?? 0,
      queue.gatewayAddress,
      event.sequence,
      event.redelivery === true,
    );
    let result: unknown;
    switch (event.kind) {
      case EventKind.Connect:
        result = handler.onConnect?.(clientId, ctx);
        break;
      case EventKind.WebSocketConnect:
        if (event.awaitsVerdict) return this.decideUpgrade(queue.gatewayAddress, event, ctx, queue);
        result = handler.onWebSocketConnect?.(clientId, websocketRequest(event.url ?? '/', { ...event.headers }), ctx);
        break;
      case EventKind.Message: {
        const body = asBuffer(event.body);
        // A binary body is copied so a handler that keeps it does not pin the whole socket chunk it came in.
        result = handler.onMessage?.(clientId, event.binary ? Buffer.from(body) : body.toString('utf8'), ctx);
        break;
      }
      case EventKind.Close:
        return thenable(handler.onClose?.(clientId, ctx));
    }
    const pending = thenable(result);
    if (pending) {
      queue.unsaved = ctx;
      return pending;
    }
    return queue.live ? this.saveSession(ctx, queue) : undefined;
  }

  /**
   * The gateway holds this upgrade until we answer: accepted when onWebSocketConnect returns (its session
   * changes saved first, so they are in place before the client can send), refused with the status of a
   * RefuseConnection it throws, or 500 for any other error.
   */
  private async decideUpgrade(gatewayAddress: string, event: ClientEvent, ctx: ClientEventContext, queue: ClientQueue): Promise<void> {
    let verdict = ACCEPT;
    try {
      await this.handler.onWebSocketConnect?.(ctx.clientId, websocketRequest(event.url ?? '/', { ...event.headers }), ctx);
      const saving = this.saveSession(ctx, queue);
      if (saving) await saving;
    } catch (error) {
      if (error instanceof RefuseConnection) {
        verdict = { status: error.status, reason: error.reason };
      } else {
        this.stats.failed++;
        this.log.error('onWebSocketConnect threw: upgrade refused', { logEvent: 'upgrade-handler-threw', clientId: ctx.clientId, error });
        verdict = { status: 500, reason: 'connection check failed' };
      }
    }
    this.sendToGateway(gatewayAddress, { verdict: { sequence: event.sequence ?? 0, ...verdict } });
  }

  /**
   * Writes back what the callback changed in the session from what it was given (ctx.givenSession): the keys it set or
   * changed and those it removed, merged at the gateway into the session as it is by then, so writes to other keys
   * meanwhile (the Gateway API, this callback's own ctx.gateway.setSession/updateSession included) stay. The result
   * is the client's newest session here: its next event runs with it, even when that event left the gateway before
   * this write arrived there (the gateway's SessionUpdate for the write comes before its reply, and replaces it).
   */
  private saveSession(ctx: ClientEventContext, queue: ClientQueue): Promise<void> | undefined {
    // Most callbacks never touch the session, or leave one they were given empty as it was: no depth walk, no
    // stringify. Those that read it and leave it as it was cost a stringify, and no promise (an async function costs
    // one, and a turn of the microtask queue, even when it returns at once).
    if (!ctx.sessionTouched || (ctx.givenSession === EMPTY_SESSION_TEXT && isEmptySession(ctx.session))) return undefined;
    const before = ctx.givenSession;
    // Measured before JSON.stringify, which a deep enough session would overflow; the event is done all the same.
    if (sessionTooDeep(ctx.session)) {
      this.log.error(`ctx.session not saved: ${SESSION_TOO_DEEP}`, { logEvent: 'session-not-saved', clientId: ctx.clientId, messageId: ctx.messageId });
      return undefined;
    }
    const after = ctx.session !== null && typeof ctx.session === 'object' ? JSON.stringify(ctx.session) : '{}';
    // Most callbacks leave the session as they were given it: one stringify tells, nothing more is parsed.
    if (after === before || (before === EMPTY_SESSION_TEXT && after === '{}')) return undefined;
    const changes = sessionChanges(parseSession(before), JSON.parse(after) as Session);
    if (!changes) return undefined;
    return this.writeSessionChanges(ctx.clientId, changes, queue);
  }

  private async writeSessionChanges(clientId: string, changes: SessionChanges, queue: ClientQueue): Promise<void> {
    await this.gateway.writeSessionChanges(clientId, changes);
    // Where the gateway has gone or dropped the client, its onClose must still see what this callback left.
    queue.session = JSON.stringify(applySessionChanges(parseSession(queue.session), changes));
  }

  private checkRunning(): void {
    const now = performance.now();
    for (const [clientId, queue] of this.queues) {
      if (queue.events.length === 0) {
        if (now - queue.doneAt >= KEEP_IDLE_MS) this.queues.delete(clientId);
        continue;
      }
      const elapsedMs = now - queue.startedAt;
      if (this.abandonTimeoutMs > 0 && elapsedMs >= this.abandonTimeoutMs) {
        this.abandon(clientId, queue, elapsedMs);
        continue;
      }
      if (queue.reported || elapsedMs < this.processTimeoutMs) continue;
      queue.reported = true;
      this.stats.slow++;
      this.log.warn('processTimeout: handler still running', {
        logEvent: 'process-timeout',
        clientId,
        event: kindName(queue.events[0]!),
        elapsedMs,
        processTimeoutMs: this.processTimeoutMs,
      });
    }
  }

  /** Gives up the running event: acknowledged as done, and the client's next events run in a new run of its queue. */
  private abandon(clientId: string, queue: ClientQueue, elapsedMs: number): void {
    const event = queue.events.shift()!;
    this.stats.abandoned++;
    this.log.warn('abandonTimeout: handler given up, its event acknowledged', {
      logEvent: 'abandon-timeout',
      clientId,
      event: kindName(event),
      messageId: messageIdOf(queue.gatewayAddress, event.sequence),
      elapsedMs,
      abandonTimeoutMs: this.abandonTimeoutMs,
    });
    this.acks.add(queue.gatewayAddress, toNumber(event.sequence));
    queue.live = false;
    if (queue.events.length === 0) {
      this.queues.delete(clientId);
      return;
    }
    const next = new ClientQueue(clientId, queue.gatewayAddress, queue.events[0]!, this);
    next.events.push(...queue.events.slice(1));
    next.session = queue.session;
    next.sessionVersion = queue.sessionVersion;
    this.queues.set(clientId, next);
    this.run(next);
  }
}

/** What a callback returned, as a promise to wait for when it is one (or any thenable: adopted, as `await` would). */
function thenable(result: unknown): Promise<void> | undefined {
  if (result instanceof Promise) return result as Promise<void>;
  if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<void>).then === 'function') {
    return Promise.resolve(result as PromiseLike<void>);
  }
  return undefined;
}

/** Whether a callback's ctx.session comes to no session at all (it is written back as `{}`: see saveSession). */
function isEmptySession(session: unknown): boolean {
  if (session === null || typeof session !== 'object') return true;
  for (const _ in session) return false;
  return true;
}

/** For log lines: Connect, WebSocketConnect, Message or Close. */
function kindName(event: ClientEvent): string | undefined {
  return EventKind[event.kind ?? EventKind.Connect];
}

/** protobufjs gives Buffers on Node; wrap anything else without copying. */
function asBuffer(bytes: Uint8Array | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
