import { FEATURE_SESSION_UPDATES, FEATURE_UPGRADE_VERDICTS } from '../wire/handshake.js';
import { toNumber, type ClientEvent, type Envelope } from '../wire/types.js';
import type { Client } from './client.js';
import { UnackedEvents } from './unacked-events.js';

/** What event delivery needs of a worker's connection: a PeerConnection, or in a unit test a fake. */
export interface WorkerConnection {
  send(envelope: Envelope): void;
  /** The features the worker announced in its handshake. */
  readonly remoteFeatures: readonly string[];
}

export interface Unacked {
  client: Client;
  event: ClientEvent;
  /** The event's, as a number. */
  sequence: number;
}

/** What one client has unacknowledged at one worker. */
export interface Holding {
  events: number;
  bytes: number;
}

/** A worker's window: the events, and bytes of message bodies, it may hold unacknowledged. */
export interface Window {
  events: number;
  bytes: number;
}

/**
 * A connected worker as the gateway sees it: the events it has not acknowledged, the same by client (the holdings),
 * and the clients waiting on it. A client's `inFlight` changes here only, with its holdings: it is their sum.
 */
export class WorkerLink {
  private readonly unacked = new UnackedEvents<Unacked>();
  /** Body bytes of the unacknowledged events. */
  private unackedBytes = 0;
  /** The basis of each client's fair share of this worker's window. */
  private readonly holdings = new Map<Client, Holding>();
  /** Clients whose next event waits for this worker: its window is full, or it is draining their earlier events. */
  readonly blocked = new Set<Client>();
  /** Stopping: it gets no new clients or events, but finishes (and acknowledges) what it has. */
  draining = false;
  /** The one suspect event (see EventDelivery) it holds, if any: should it die, that event is the one blamed. */
  suspect: Unacked | undefined;

  constructor(
    readonly key: string,
    readonly conn: WorkerConnection,
  ) {}

  get unacknowledged(): number {
    return this.unacked.size;
  }

  holds(client: Client): boolean {
    return this.holdings.has(client);
  }

  /** Sends the event; it is held here, and counts in its client's share, until acknowledged. */
  send(client: Client, event: ClientEvent): Unacked {
    this.conn.send({ event });
    const entry: Unacked = { client, event, sequence: toNumber(event.sequence) };
    this.unacked.add(entry);
    const bytes = event.body?.length ?? 0;
    this.unackedBytes += bytes;
    const holding = this.holdings.get(client);
    if (holding) {
      holding.events++;
      holding.bytes += bytes;
    } else {
      this.holdings.set(client, { events: 1, bytes });
    }
    client.deliveryState.inFlight++;
    return entry;
  }

  /** The event with this sequence was handled; undefined when this worker holds none. */
  acknowledge(sequence: number): Unacked | undefined {
    const entry = this.unacked.take(sequence);
    if (!entry) return undefined;
    const bytes = entry.event.body?.length ?? 0;
    this.unackedBytes -= bytes;
    const holding = this.holdings.get(entry.client)!;
    if (--holding.events === 0) this.holdings.delete(entry.client);
    else holding.bytes -= bytes;
    entry.client.deliveryState.inFlight--;
    return entry;
  }

  /** The worker is lost: everything it held, in sequence order; it holds nothing any more. */
  takeAll(): Unacked[] {
    const entries = this.unacked.takeAll();
    for (const { client } of entries) client.deliveryState.inFlight--;
    this.unackedBytes = 0;
    this.holdings.clear();
    return entries;
  }

  /**
   * Whether the client must wait for this worker. A client that holds events here gets at most its fair share of
   * half the window, divided among the clients holding events and one yet to come: the other half stays for clients
   * that come later. A client that holds none may always send one, as long as the worker holds less than twice its
   * window: events already sent cannot be taken back, so a few clients whose handlers never return (and took their
   * shares before others came) cannot keep a fresh client out. Past twice the window every slot is another client's
   * single event.
   */
  fullFor(client: Client, window: Window): boolean {
    const holding = this.holdings.get(client);
    if (holding === undefined) return this.unacked.size >= 2 * window.events || this.unackedBytes >= 2 * window.bytes;
    if (this.unacked.size >= window.events || this.unackedBytes >= window.bytes) return true;
    const shares = 2 * (this.holdings.size + 1);
    return holding.events >= Math.floor(window.events / shares) || holding.bytes >= window.bytes / shares;
  }

  get decidesUpgrades(): boolean {
    return this.conn.remoteFeatures.includes(FEATURE_UPGRADE_VERDICTS);
  }

  get takesSessionUpdates(): boolean {
    return this.conn.remoteFeatures.includes(FEATURE_SESSION_UPDATES);
  }
}
