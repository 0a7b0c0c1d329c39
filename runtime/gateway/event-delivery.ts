import { EventKind, toNumber, type ClientEvent, type Envelope, type Uint64 } from '../wire/types.js';
import type { Client } from './client.js';
import { Router, type RouterKind } from './router.js';
import { WorkerLink, type Window, type WorkerConnection } from './worker-link.js';

export interface EventDeliveryOptions {
  router: RouterKind;
  /**
   * Events, and bytes of message bodies, a worker may hold unacknowledged, shared fairly among the clients holding
   * them; past either, their clients wait. A client holding nothing there may still send one event, up to twice
   * these, so that clients whose handlers never return cannot shut a fresh one out.
   */
  window: number;
  windowBytes: number;
  /** Unacknowledged events one client may have, whatever its share. */
  clientWindow: number;
  /**
   * Events held in the gateway across all clients, counting the Close that each client with events waiting will
   * send, before new clients and new events are refused (see hasRoomForClient).
   */
  maxWaiting: number;
  /** Worker deaths an event may coincide with before it is quarantined (at least 2: see EventDelivery). */
  maxDeaths: number;
  /** The event was quarantined: nothing of its client but its Close goes to a worker any more. */
  quarantined(client: Client, event: ClientEvent, deaths: number): void;
}

export interface DeliveryStats {
  redelivered: number;
  quarantined: number;
}

/** Room a new client needs among the events held here: its Connect, its WebSocketConnect and its Close. */
const ROOM_PER_CLIENT = 3;

/** A suspect event waits for a worker that holds no other suspect. */
const ISOLATION = 'isolation';
/** A client with `clientWindow` events unacknowledged waits for their acknowledgements, from whichever workers. */
const OWN_ACKS = 'own-acks';
/**
 * What a client's next event waits for: a worker (full, draining, or running the client's suspect), any worker
 * (null), isolation, or its own acknowledgements.
 */
type Blocker = WorkerLink | null | typeof ISOLATION | typeof OWN_ACKS;

/**
 * Gets every client event to a worker's handler, in order per client, at least once.
 *
 * Each event stays with the gateway until its worker acknowledges it. When a worker's connection is lost, its
 * unacknowledged events go, in order and marked as redeliveries, to another worker, ahead of the client's later
 * events. A worker holds at most `window` unacknowledged events: past that its clients' events wait here and
 * those clients are paused, so a slow worker slows its inputs down rather than growing anyone's memory. No client
 * holds more than its fair share of that window (see `full`). A draining worker finishes its clients' events before
 * their next ones go elsewhere.
 *
 * Poison containment: a worker lost without having announced a drain died (a crash, an exit, a heartbeat timeout).
 * Every event it held coincided with that death: its count of deaths goes up by one, and it becomes a suspect.
 * A suspect goes to a worker holding no other suspect (other events go there as usual) and the client's later
 * events wait behind it. So when a worker dies, at most one of the events it held was already a suspect, and only
 * that one gains a second (third...) death: an innocent event that shared a worker with a poison one is blamed once,
 * and again only if, sent on its own, it was once more where a worker died. The poison, which kills every worker it
 * reaches, gains a death each time, and at `maxDeaths` it is quarantined: not delivered again, nor anything its
 * client sent after it but its Close.
 */
export class EventDelivery {
  readonly stats: DeliveryStats = { redelivered: 0, quarantined: 0 };
  private readonly links = new Map<string, WorkerLink>();
  private readonly router: Router;
  private readonly window: Window;
  /** Clients waiting for any worker at all. */
  private readonly unrouted = new Set<Client>();
  /** Clients whose next event is a suspect, waiting for a worker that holds no suspect. */
  private readonly awaitingIsolation = new Set<Client>();
  /** Clients at their client window. */
  private readonly awaitingOwnAcks = new Set<Client>();
  /** Clients not gone that have events waiting: each owes a Close, which is never refused. */
  private readonly owing = new Set<Client>();
  /** The worker deaths each suspect event coincided with; an event not in here has none. */
  private readonly deaths = new Map<ClientEvent, number>();
  private waitingCount = 0;
  /** The gateway is stopping and closes the links itself: a link lost now is no worker's death. */
  private stopping = false;

  constructor(private readonly options: EventDeliveryOptions) {
    this.router = new Router(options.router);
    this.window = { events: options.window, bytes: options.windowBytes };
  }

  get workerCount(): number {
    return this.router.workerCount;
  }

  /** Events held in the gateway, waiting for a worker. */
  get waiting(): number {
    return this.waitingCount;
  }

  get unacknowledged(): number {
    let count = 0;
    for (const link of this.links.values()) count += link.unacknowledged;
    return count;
  }

  /**
   * Whether a new client may come: there is room for its opening events and its Close among the events held here,
   * counting a Close for each client with events waiting. A refused client queues nothing; past `maxWaiting`, what
   * is held grows only by Closes of clients that had nothing waiting, and by what a lost worker had not acknowledged.
   */
  hasRoomForClient(): boolean {
    return this.waitingCount + this.owing.size + ROOM_PER_CLIENT <= this.options.maxWaiting;
  }

  /** True once any worker that decides WebSocket upgrades has connected. */
  decidesUpgrades = false;

  addWorker(key: string, conn: WorkerConnection): void {
    const link = new WorkerLink(key, conn);
    this.links.set(key, link);
    this.router.add(key);
    if (link.decidesUpgrades) this.decidesUpgrades = true;
    this.retry(this.unrouted);
    this.retry(this.awaitingIsolation);
  }

  /** The worker gets nothing new; its clients move on once it has acknowledged their earlier events. */
  drainWorker(key: string): void {
    const link = this.links.get(key);
    if (!link) return;
    link.draining = true;
    this.router.remove(key);
    this.retry(link.blocked);
  }

  /** The gateway closes its worker links itself from now on (it is stopping). */
  stop(): void {
    this.stopping = true;
  }

  /**
   * The worker is gone: what it did not acknowledge goes to other workers, ahead of what its clients sent since.
   * Returns whether it died (it had not announced a drain), in which case every event it held has one death more.
   */
  removeWorker(key: string): boolean {
    const link = this.links.get(key);
    if (!link) return false;
    this.links.delete(key);
    this.router.remove(key);
    const died = !link.draining && !this.stopping;
    if (link.suspect) link.suspect.client.deliveryState.suspectAt = undefined;
    const byClient = new Map<Client, ClientEvent[]>();
    for (const { client, event } of link.takeAll()) {
      event.redelivery = true;
      if (died) this.deaths.set(event, (this.deaths.get(event) ?? 0) + 1);
      const events = byClient.get(client);
      if (events) events.push(event);
      else byClient.set(client, [event]);
    }
    const quarantined: Array<{ client: Client; event: ClientEvent; deaths: number }> = [];
    for (const [client, events] of byClient) {
      this.awaitingOwnAcks.delete(client);
      const poison = died ? events.find((event) => this.deaths.get(event)! >= this.options.maxDeaths) : undefined;
      if (poison) {
        quarantined.push({ client, event: poison, deaths: this.deaths.get(poison)! });
        this.quarantine(client, poison, events);
        continue;
      }
      this.stats.redelivered += events.length;
      this.putBack(client, events);
    }
    // (A client quarantined just now has nothing waiting any more.)
    for (const client of link.blocked) if (client.deliveryState.waiting) this.block(client, null);
    link.blocked.clear();
    this.retry(this.unrouted);
    // Told last: the gateway closes these clients, which may dispatch their Close at once.
    for (const { client, event, deaths } of quarantined) this.options.quarantined(client, event, deaths);
    return died;
  }

  acknowledged(key: string, sequences: Uint64[]): void {
    const link = this.links.get(key);
    if (!link) return;
    let isolationFreed = false;
    let ownAcks: Set<Client> | undefined;
    for (const sequence of sequences) {
      const entry = link.acknowledge(toNumber(sequence));
      if (!entry) continue;
      if (this.awaitingOwnAcks.size > 0 && this.awaitingOwnAcks.delete(entry.client)) (ownAcks ??= new Set()).add(entry.client);
      if (link.suspect === entry) {
        link.suspect = undefined;
        entry.client.deliveryState.suspectAt = undefined;
        this.deaths.delete(entry.event);
        isolationFreed = true;
      }
    }
    if (ownAcks) this.retry(ownAcks);
    if (link.blocked.size > 0) this.retry(link.blocked);
    if (isolationFreed) this.retry(this.awaitingIsolation);
  }

  /**
   * The client's session was written: the workers holding its events (which carry the session as it was when they
   * were sent) get the new one, ahead of anything the gateway sends them later. Events still waiting here take it
   * when they are sent.
   */
  sessionChanged(client: Client): void {
    if (client.deliveryState.inFlight === 0) return;
    let update: Envelope | undefined;
    for (const link of this.links.values()) {
      if (!link.takesSessionUpdates || !link.holds(client)) continue;
      update ??= { sessionUpdate: { clientId: client.id, session: client.session, sessionVersion: client.sessionVersion } };
      link.conn.send(update);
    }
  }

  /**
   * Sends the event to the client's worker, or holds it. Returns false, holding nothing, when there is no room
   * for it (see hasRoomForClient): the caller refuses the client. A Close always has room; it is the client's last
   * event, so from then on the client owes nothing and a new client may take its place at its worker.
   */
  dispatch(client: Client, event: ClientEvent): boolean {
    const state = client.deliveryState;
    if (event.kind === EventKind.Close) {
      this.owing.delete(client);
      this.router.release(state); // and so it is closed
    }
    if (state.waiting === undefined) {
      const blocker = this.trySend(client, event);
      if (blocker === true) return true;
      // Holding it makes the client owe its Close as well.
      if (!this.hasRoomFor(event, 2)) return false;
      state.hold(event);
      this.waitingCount++;
      if (!state.closed) this.owing.add(client);
      this.block(client, blocker);
      return true;
    }
    if (!this.hasRoomFor(event, 1)) return false;
    state.hold(event);
    this.waitingCount++;
    return true;
  }

  private hasRoomFor(event: ClientEvent, room: number): boolean {
    return event.kind === EventKind.Close || this.waitingCount + this.owing.size + room <= this.options.maxWaiting;
  }

  /** Puts events back ahead of what the client has waiting (they came first) and holds the client. */
  private putBack(client: Client, events: ClientEvent[]): void {
    client.deliveryState.holdFirst(events);
    this.waitingCount += events.length;
    if (!client.deliveryState.closed) this.owing.add(client);
    this.block(client, null);
  }

  /**
   * The event coincided with maxDeaths worker deaths: it goes to no worker again, and neither does anything else of
   * its client but its Close, so that onClose can clean up (a Close is itself subject to the same rule).
   */
  private quarantine(client: Client, poison: ClientEvent, held: ClientEvent[]): void {
    this.stats.quarantined++;
    const state = client.deliveryState;
    const all = [...held, ...(state.waiting ?? [])];
    const kept = all.filter((event) => event !== poison && event.kind === EventKind.Close);
    for (const event of all) if (!kept.includes(event)) this.deaths.delete(event);
    this.waitingCount += kept.length - (state.waiting?.length ?? 0);
    // With nothing kept the client is read from again, so that its close handshake completes.
    state.replace(kept);
    if (kept.length === 0) {
      this.owing.delete(client);
      return;
    }
    if (!state.closed) this.owing.add(client);
    this.block(client, null);
  }

  /** Sends, or names what the client waits on (see Blocker). */
  private trySend(client: Client, event: ClientEvent): true | Blocker {
    // Behind its own suspect: order per client holds, and the suspect stays the only event of its client in flight.
    const state = client.deliveryState;
    if (state.suspectAt !== undefined) return this.links.get(state.suspectAt) ?? null;
    if (state.inFlight >= this.options.clientWindow) return OWN_ACKS;
    const suspect = this.deaths.size > 0 && this.deaths.has(event);
    const link = suspect ? this.isolatedTarget(client) : this.target(client);
    if (link === null || link === ISOLATION || link.draining || link.fullFor(client, this.window)) return link;
    const entry = link.send(client, event);
    state.workerKey = link.key;
    if (suspect) {
      link.suspect = entry;
      state.suspectAt = link.key;
    }
    return true;
  }

  private target(client: Client): WorkerLink | null {
    const state = client.deliveryState;
    if (this.options.router === 'sticky' && state.workerKey !== undefined) {
      const current = this.links.get(state.workerKey);
      // A draining worker still finishing this client's events keeps it until it has: order per client holds.
      if (current && (!current.draining || state.inFlight > 0)) return current;
    }
    const key = this.router.pick(state);
    return key === undefined ? null : (this.links.get(key) ?? null);
  }

  /** A worker for a suspect: one holding no other suspect, so that should it die, the blame is clear. */
  private isolatedTarget(client: Client): WorkerLink | null | typeof ISOLATION {
    if (this.router.workerCount === 0) return null;
    const key = this.router.pick(client.deliveryState, (key) => this.links.get(key)?.suspect === undefined);
    return key === undefined ? ISOLATION : this.links.get(key)!;
  }

  private waitSet(blocker: Blocker): Set<Client> {
    if (blocker === null) return this.unrouted;
    if (blocker === ISOLATION) return this.awaitingIsolation;
    return blocker === OWN_ACKS ? this.awaitingOwnAcks : blocker.blocked;
  }

  /** The client's next event waits on `on` (the client itself is paused while it has events waiting). */
  private block(client: Client, on: Blocker): void {
    this.waitSet(on).add(client);
  }

  /** Sends what the clients in `set` hold, as far as their workers take it. */
  private retry(set: Set<Client>): void {
    if (set.size === 0) return;
    const clients = [...set];
    set.clear();
    for (const client of clients) {
      const state = client.deliveryState;
      let event: ClientEvent | undefined;
      let blocker: true | Blocker = true;
      while ((event = state.waiting?.[0]) !== undefined) {
        // A session written while the event waited travels with it.
        if (client.sessionVersion > (event.sessionVersion ?? 0)) {
          event.session = client.session;
          event.sessionVersion = client.sessionVersion;
        }
        blocker = this.trySend(client, event);
        if (blocker !== true) break;
        state.shift();
        this.waitingCount--;
      }
      if (blocker !== true) this.waitSet(blocker).add(client);
      else this.owing.delete(client);
    }
  }
}
