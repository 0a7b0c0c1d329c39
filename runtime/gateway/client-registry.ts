import { EMPTY_SESSION } from '../wire/session.js';
import type { ClientEvent } from '../wire/types.js';
import type { ClientTransport } from './client-transport.js';

/** One client connection and what the gateway knows of it. */
export class Client {
  uid: string | undefined;
  readonly groups = new Set<string>();
  /** The session as JSON bytes; empty when none was ever set. */
  session: Buffer = EMPTY_SESSION;
  /** Times the session was written: a worker tells the newest session it has seen by it. */
  sessionVersion = 0;
  /** Heartbeat intervals since the client last sent anything. */
  silentIntervals = 0;
  /** The worker this client's events go to (sticky routing). */
  workerKey: string | undefined;
  /** The worker whose client count holds this client (see Router). */
  countedAt: string | null | undefined;
  /** Events sent to a worker and not yet acknowledged. */
  inFlight = 0;
  /** Events held, in order, until a worker can take them; the client is not read from meanwhile. */
  waiting: ClientEvent[] | undefined;
  /** The worker running this client's suspect event (see EventDelivery): its later events wait for that one. */
  suspectAt: string | undefined;
  /** Closed: its Close event is (or was) dispatched, and nothing else of it comes. */
  gone = false;
  closing = false;
  /** Start and count of the current one-second window of the message rate limit. */
  rateWindowStart = 0;
  rateWindowCount = 0;

  constructor(
    readonly id: string,
    /** Replaced once when a WebSocket upgrade that awaited a worker's verdict completes. */
    public transport: ClientTransport,
  ) {}
}

/** Clients by id, plus the uid and group indexes, kept consistent with each other. */
export class ClientRegistry {
  readonly clients = new Map<string, Client>();
  readonly byUid = new Map<string, Set<Client>>();
  readonly byGroup = new Map<string, Set<Client>>();

  get size(): number {
    return this.clients.size;
  }

  get(id: string): Client | undefined {
    return this.clients.get(id);
  }

  add(client: Client): void {
    this.clients.set(client.id, client);
  }

  remove(client: Client): void {
    if (this.clients.get(client.id) !== client) return;
    this.clients.delete(client.id);
    if (client.uid !== undefined) this.unbindUid(client, client.uid);
    for (const group of [...client.groups]) this.leaveGroup(client, group);
  }

  /** A client has at most one uid (as in GatewayWorker): binding another replaces it. */
  bindUid(client: Client, uid: string): void {
    if (client.uid === uid) return;
    if (client.uid !== undefined) this.unbindUid(client, client.uid);
    client.uid = uid;
    addToIndex(this.byUid, uid, client);
  }

  unbindUid(client: Client, uid: string): void {
    if (client.uid !== uid) return;
    client.uid = undefined;
    removeFromIndex(this.byUid, uid, client);
  }

  joinGroup(client: Client, group: string): void {
    client.groups.add(group);
    addToIndex(this.byGroup, group, client);
  }

  leaveGroup(client: Client, group: string): void {
    client.groups.delete(group);
    removeFromIndex(this.byGroup, group, client);
  }

  ungroup(group: string): void {
    for (const client of this.byGroup.get(group) ?? []) client.groups.delete(group);
    this.byGroup.delete(group);
  }

  uidClients(uid: string): Iterable<Client> {
    return this.byUid.get(uid) ?? [];
  }

  groupClients(group: string): Iterable<Client> {
    return this.byGroup.get(group) ?? [];
  }
}

function addToIndex(index: Map<string, Set<Client>>, key: string, client: Client): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(client);
}

function removeFromIndex(index: Map<string, Set<Client>>, key: string, client: Client): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(client);
  if (set.size === 0) index.delete(key);
}
