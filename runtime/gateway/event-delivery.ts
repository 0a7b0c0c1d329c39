import type { PeerConnection } from '../wire/peer-connection.js';
import { EventKind, toNumber, type ClientEvent, type Envelope, type Uint64 } from '../wire/types.js';
import type { Client } from './client-registry.js';
import { Router, type RouterKind } from './router.js';
import { WorkerLink } from './worker-link.js';

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
  /** Events held in the gateway across all clients before new clients' events are refused. */
  maxWaiting: number;
}

export interface DeliveryStats {
  redelivered: number;
}

/**
 * Gets every client event to a worker's handler, in order per client, at least once.
 *
 * Each event stays with the gateway until its worker acknowledges it. When a worker's connection is lost, its
 * unacknowledged events go, in order and marked as redeliveries, to another worker, ahead of the client's later
 * events. A worker holds at most `window` unacknowledged events: past that its clients' events wait here and
 * those clients are paused, so a slow worker slows its inputs down rather than growing anyone's memory. No client
 * holds more than its fair share of that window (see `full`). A draining worker finishes its clients' events before
 * their next ones go elsewhere.
 */
export class EventDelivery {
  readonly stats: DeliveryStats = { redelivered: 0 };
  private readonly links = new Map<string, WorkerLink>();
  private readonly router: Router;
  /** Clients waiting for any worker at all. */
  private readonly unrouted = new Set<Client>();
  private waitingCount = 0;

  constructor(private readonly options: EventDeliveryOptions) {
    this.router = new Router(options.router);
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
    for (const link of this.links.values()) count += link.unacked.size;
    return count;
  }

  /** The client is gone: a new client may take its place at its worker. */
  clientGone(client: Client): void {
    this.router.release(client);
  }

  /** True once any worker that decides WebSocket upgrades has connected. */
  decidesUpgrades = false;

  addWorker(key: string, conn: PeerConnection): void {
    const link = new WorkerLink(key, conn);
    this.links.set(key, link);
    this.router.add(key);
    if (link.decidesUpgrades) this.decidesUpgrades = true;
    this.retry(this.unrouted);
  }

  /** The worker gets nothing new; its clients move on once it has acknowledged their earlier events. */
  drainWorker(key: string): void {
    const link = this.links.get(key);
    if (!link) return;
    link.draining = true;
    this.router.remove(key);
    this.retry(link.blocked);
  }

  /** The worker is gone: what it did not acknowledge goes to other workers, ahead of what its clients sent since. */
  removeWorker(key: string): void {
    const link = this.links.get(key);
    if (!link) return;
    this.links.delete(key);
    this.router.remove(key);
    const byClient = new Map<Client, ClientEvent[]>();
    for (const { client, event } of link.unacked.values()) {
      event.redelivery = true;
      const events = byClient.get(client);
      if (events) events.push(event);
      else byClient.set(client, [event]);
    }
    this.stats.redelivered += link.unacked.size;
    link.unacked.clear();
    link.unackedBytes = 0;
    link.holdings.clear();
    for (const [client, events] of byClient) {
      client.inFlight -= events.length;
      client.waiting = client.waiting ? events.concat(client.waiting) : events;
      this.waitingCount += events.length;
      this.block(client, null);
    }
    for (const client of link.blocked) this.block(client, null);
    link.blocked.clear();
    this.retry(this.unrouted);
  }

  acknowledged(key: string, sequences: Uint64[]): void {
    const link = this.links.get(key);
    if (!link) return;
    for (const sequence of sequences) {
      const number = toNumber(sequence);
      const entry = link.unacked.get(number);
      if (!entry) continue;
      link.unacked.delete(number);
      const bytes = entry.event.body?.length ?? 0;
      link.unackedBytes -= bytes;
      link.release(entry.client, bytes);
      entry.client.inFlight--;
    }
    if (link.blocked.size > 0) this.retry(link.blocked);
  }

  /**
   * The client's session was written: the workers holding its events (which carry the session as it was when they
   * were sent) get the new one, ahead of anything the gateway sends them later. Events still waiting here take it
   * when they are sent.
   */
  sessionChanged(client: Client): void {
    if (client.inFlight === 0) return;
    let update: Envelope | undefined;
    for (const link of this.links.values()) {
      if (!link.takesSessionUpdates || !link.holdings.has(client)) continue;
      update ??= { sessionUpdate: { clientId: client.id, session: client.session, sessionVersion: client.sessionVersion } };
      link.conn.send(update);
    }
  }

  /**
   * Sends the event to the client's worker, or holds it. Returns false, holding nothing, when the gateway
   * already holds `maxWaiting` events: the caller refuses the client.
   */
  dispatch(client: Client, event: ClientEvent): boolean {
    if (client.waiting === undefined) {
      const blocker = this.trySend(client, event);
      if (blocker === true) return true;
      if (this.waitingCount >= this.options.maxWaiting && event.kind !== EventKind.Close) return false;
      client.waiting = [event];
      this.waitingCount++;
      this.block(client, blocker);
      return true;
    }
    if (this.waitingCount >= this.options.maxWaiting && event.kind !== EventKind.Close) return false;
    client.waiting.push(event);
    this.waitingCount++;
    return true;
  }

  /** Sends, or names what the client waits on: a full or draining worker, or null when there is no worker. */
  private trySend(client: Client, event: ClientEvent): true | WorkerLink | null {
    const link = this.target(client);
    if (link === null || link.draining || this.full(link, client)) return link;
    link.conn.send({ event });
    link.unacked.set(toNumber(event.sequence), { client, event });
    const bytes = event.body?.length ?? 0;
    link.unackedBytes += bytes;
    link.hold(client, bytes);
    client.inFlight++;
    client.workerKey = link.key;
    return true;
  }

  /**
   * Whether the client must wait for this worker. A client that holds events there gets at most its fair share of
   * half the window, divided among the clients holding events and one yet to come: the other half stays for clients
   * that come later. A client that holds none may always send one, as long as the worker holds less than twice its window: events
   * already sent cannot be taken back, so a few clients whose handlers never return (and took their shares before
   * others came) cannot keep a fresh client out. Past twice the window every slot is another client's single event.
   */
  private full(link: WorkerLink, client: Client): boolean {
    const { window, windowBytes, clientWindow } = this.options;
    if (client.inFlight >= clientWindow) return true;
    const holding = link.holdings.get(client);
    if (holding === undefined) return link.unacked.size >= 2 * window || link.unackedBytes >= 2 * windowBytes;
    if (link.unacked.size >= window || link.unackedBytes >= windowBytes) return true;
    const shares = 2 * (link.holdings.size + 1);
    return holding.events >= Math.floor(window / shares) || holding.bytes >= windowBytes / shares;
  }

  private target(client: Client): WorkerLink | null {
    if (this.options.router === 'sticky' && client.workerKey !== undefined) {
      const current = this.links.get(client.workerKey);
      // A draining worker still finishing this client's events keeps it until it has: order per client holds.
      if (current && (!current.draining || client.inFlight > 0)) return current;
    }
    const key = this.router.pick(client);
    return key === undefined ? null : (this.links.get(key) ?? null);
  }

  private block(client: Client, on: WorkerLink | null): void {
    const set = on === null ? this.unrouted : on.blocked;
    if (set.has(client)) return;
    set.add(client);
    client.transport.pause();
  }

  /** Sends what the clients in `set` hold, as far as their workers take it. */
  private retry(set: Set<Client>): void {
    if (set.size === 0) return;
    const clients = [...set];
    set.clear();
    for (const client of clients) {
      const waiting = client.waiting;
      if (!waiting) continue;
      let blocker: true | WorkerLink | null = true;
      while (waiting.length > 0) {
        const event = waiting[0]!;
        // A session written while the event waited travels with it.
        if (client.sessionVersion > (event.sessionVersion ?? 0)) {
          event.session = client.session;
          event.sessionVersion = client.sessionVersion;
        }
        blocker = this.trySend(client, event);
        if (blocker !== true) break;
        waiting.shift();
        this.waitingCount--;
      }
      if (blocker !== true) {
        (blocker === null ? this.unrouted : blocker.blocked).add(client);
        continue;
      }
      client.waiting = undefined;
      client.transport.resume();
    }
  }
}
