import type { Client } from './client.js';

/**
 * Clients by id, plus the uid and group indexes, kept consistent with each other and with each client's membership,
 * which only this changes.
 */
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
    client.membership.uid = uid;
    addToIndex(this.byUid, uid, client);
  }

  unbindUid(client: Client, uid: string): void {
    if (client.uid !== uid) return;
    client.membership.uid = undefined;
    removeFromIndex(this.byUid, uid, client);
  }

  joinGroup(client: Client, group: string): void {
    (client.membership.groups ??= new Set()).add(group);
    addToIndex(this.byGroup, group, client);
  }

  leaveGroup(client: Client, group: string): void {
    if (client.groups.has(group)) client.membership.groups!.delete(group);
    removeFromIndex(this.byGroup, group, client);
  }

  ungroup(group: string): void {
    for (const client of this.byGroup.get(group) ?? []) client.membership.groups?.delete(group);
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
