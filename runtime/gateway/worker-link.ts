import { FEATURE_SESSION_UPDATES, FEATURE_UPGRADE_VERDICTS } from '../wire/handshake.js';
import type { PeerConnection } from '../wire/peer-connection.js';
import type { ClientEvent } from '../wire/types.js';
import type { Client } from './client-registry.js';

/** What a WorkerLink needs of its connection (a PeerConnection; a unit test may give a fake). */
export type WorkerConnection = Pick<PeerConnection, 'send' | 'remoteFeatures'>;

export interface Unacked {
  client: Client;
  event: ClientEvent;
}

/** What one client has unacknowledged at one worker. */
export interface Holding {
  events: number;
  bytes: number;
}

/** A connected worker as the gateway sees it: the events it has not acknowledged, and the clients waiting on it. */
export class WorkerLink {
  /** By sequence; a Map keeps insertion order, which is sequence order. */
  readonly unacked = new Map<number, Unacked>();
  /** Body bytes of the unacknowledged events. */
  unackedBytes = 0;
  /** The same events by client: the basis of each client's fair share of this worker's window. */
  readonly holdings = new Map<Client, Holding>();
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

  hold(client: Client, bytes: number): void {
    const holding = this.holdings.get(client);
    if (holding) {
      holding.events++;
      holding.bytes += bytes;
    } else {
      this.holdings.set(client, { events: 1, bytes });
    }
  }

  release(client: Client, bytes: number): void {
    const holding = this.holdings.get(client);
    if (!holding) return;
    if (--holding.events === 0) this.holdings.delete(client);
    else holding.bytes -= bytes;
  }

  get decidesUpgrades(): boolean {
    return this.conn.remoteFeatures.includes(FEATURE_UPGRADE_VERDICTS);
  }

  get takesSessionUpdates(): boolean {
    return this.conn.remoteFeatures.includes(FEATURE_SESSION_UPDATES);
  }
}
