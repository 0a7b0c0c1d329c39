import { SESSION_TOO_DEEP, sessionJsonTooDeep } from '../wire/session-depth.js';
import { mergeSession, parseSession, type Session } from '../wire/session.js';
import { ErrorCode, Op, type ClientInfo, type Command, type GroupInfo, type Reply } from '../wire/types.js';
import type { Client } from './client.js';
import type { ClientRegistry } from './client-registry.js';

export interface Delivery {
  /** Sends to one client; counts it. */
  deliver(client: Client, data: Buffer, binary: boolean): void;
  close(client: Client, data: Buffer | undefined, binary: boolean): void;
  destroy(client: Client): void;
  /** The client's session was written (and its version moved on). */
  sessionChanged(client: Client): void;
}

/**
 * Carries out one command from a worker or API client against this gateway's clients; returns what the reply
 * carries (for queries) or undefined. Commands about a client that is gone do nothing, as in GatewayWorker.
 */
export function executeCommand(command: Command, registry: ClientRegistry, delivery: Delivery): Omit<Reply, 'requestId'> | undefined {
  // Called for every command a gateway gets: no closure, generator or copy made unless the command needs it.
  const ids = command.clientIds ?? NO_IDS;
  switch (command.op) {
    case Op.SendToClient: {
      let body: Buffer | undefined;
      for (const id of ids) {
        const client = registry.get(id);
        if (client) delivery.deliver(client, (body ??= bodyOf(command)), command.binary === true);
      }
      return undefined;
    }
    case Op.SendToAll: {
      const excluded = new Set(command.excludeClientIds ?? NO_IDS);
      const body = bodyOf(command);
      const binary = command.binary === true;
      if (command.onlyListed) {
        for (const id of ids) {
          const client = registry.get(id);
          if (client && !excluded.has(client.id)) delivery.deliver(client, body, binary);
        }
      } else {
        for (const client of registry.clients.values()) if (!excluded.has(client.id)) delivery.deliver(client, body, binary);
      }
      return undefined;
    }
    case Op.SendToUid: {
      const uids = command.uids ?? NO_IDS;
      const binary = command.binary === true;
      let body: Buffer | undefined;
      if (uids.length === 1) {
        for (const client of registry.uidClients(uids[0]!)) delivery.deliver(client, (body ??= bodyOf(command)), binary);
      } else {
        for (const client of union(uids, (uid) => registry.uidClients(uid))) delivery.deliver(client, (body ??= bodyOf(command)), binary);
      }
      return undefined;
    }
    case Op.SendToGroup: {
      const excluded = new Set(command.excludeClientIds ?? NO_IDS);
      const body = bodyOf(command);
      const binary = command.binary === true;
      for (const client of union(command.groups ?? NO_IDS, (group) => registry.groupClients(group))) {
        if (!excluded.has(client.id)) delivery.deliver(client, body, binary);
      }
      return undefined;
    }
    case Op.BindUid:
    case Op.UnbindUid:
    case Op.JoinGroup:
    case Op.LeaveGroup: {
      // Applied to the command's client, if it is still here; no reply.
      const client = registry.get(first(ids));
      if (client) membershipChanges[command.op](registry, client, command);
      return undefined;
    }
    case Op.Ungroup:
      for (const group of command.groups ?? NO_IDS) registry.ungroup(group);
      return undefined;
    case Op.CloseClient: {
      const body = bodyOf(command);
      for (const client of listed(registry, ids)) delivery.close(client, body.length > 0 ? body : undefined, command.binary === true);
      return undefined;
    }
    case Op.DestroyClient:
      for (const client of listed(registry, ids)) delivery.destroy(client);
      return undefined;
    case Op.SetSession:
    case Op.UpdateSession:
      return storeSession(command, registry.get(first(ids)), delivery);
    case Op.GetClients: {
      const clients = command.groups?.length
        ? union(command.groups, (group) => registry.groupClients(group))
        : ids.length
          ? listed(registry, ids)
          : registry.clients.values();
      return { clients: [...clients].map((client) => clientInfo(client, command)) };
    }
    case Op.CountClients: {
      if (!command.groups?.length) return { count: registry.size };
      let count = 0;
      for (const _ of union(command.groups, (group) => registry.groupClients(group))) count++;
      return { count };
    }
    case Op.GetUids: {
      if (!command.groups?.length) return { ids: [...registry.byUid.keys()] };
      const uids = new Set<string>();
      for (const client of union(command.groups, (group) => registry.groupClients(group))) {
        if (client.uid !== undefined) uids.add(client.uid);
      }
      return { ids: [...uids] };
    }
    case Op.GetGroups: {
      // Every group, or those in `groups` that have members here.
      const wanted = command.groups?.length ? command.groups.flatMap((group) => (registry.byGroup.has(group) ? [[group, registry.byGroup.get(group)!] as const] : [])) : registry.byGroup;
      return { groups: [...wanted].map(([group, members]) => groupInfo(group, members, command.withMembers ?? false)) };
    }
    case Op.GetClientsByUid:
      // Each client bound to any of the uids, with its uid.
      return { clients: [...new Set(command.uids ?? [])].flatMap((uid) => [...registry.uidClients(uid)].map((client) => ({ clientId: client.id, uid }))) };
    default:
      return { error: `unknown command op ${command.op}`, errorCode: ErrorCode.UnknownOp };
  }
}

const NO_IDS: string[] = [];

type MembershipOp = Op.BindUid | Op.UnbindUid | Op.JoinGroup | Op.LeaveGroup;
const membershipChanges: Record<MembershipOp, (registry: ClientRegistry, client: Client, command: Command) => void> = {
  [Op.BindUid]: (registry, client, command) => registry.bindUid(client, first(command.uids)),
  [Op.UnbindUid]: (registry, client, command) => registry.unbindUid(client, first(command.uids)),
  [Op.JoinGroup]: (registry, client, command) => registry.joinGroup(client, first(command.groups)),
  [Op.LeaveGroup]: (registry, client, command) => registry.leaveGroup(client, first(command.groups)),
};

function first(list: string[] | undefined): string {
  return list?.[0] ?? '';
}

/**
 * The command's message as its clients get it: a copy of its bytes, which are a view of the whole chunk read from the
 * sender's connection, a chunk a client's unsent messages would otherwise keep in memory (a slow client holding far
 * more than its send buffer counts). The sends to one uid or client make it once a client is there to get it.
 */
function bodyOf(command: Command): Buffer {
  return Buffer.from(command.body ?? NO_BYTES);
}

const NO_BYTES = new Uint8Array(0);

function* listed(registry: ClientRegistry, ids: string[]): Iterable<Client> {
  for (const id of ids) {
    const client = registry.get(id);
    if (client) yield client;
  }
}

/** Every client found under any of the keys, each once. */
function* union(keys: string[], lookup: (key: string) => Iterable<Client>): Iterable<Client> {
  if (keys.length === 1) {
    yield* lookup(keys[0]!);
    return;
  }
  const seen = new Set<Client>();
  for (const key of keys) {
    for (const client of lookup(key)) {
      if (seen.has(client)) continue;
      seen.add(client);
      yield client;
    }
  }
}

function clientInfo(client: Client, command: Command): ClientInfo {
  const info: ClientInfo = { clientId: client.id };
  if (command.withUid && client.uid !== undefined) info.uid = client.uid;
  if (command.withSession) info.session = client.session;
  return info;
}

function groupInfo(group: string, members: Set<Client>, withMembers: boolean): GroupInfo {
  const info: GroupInfo = { group, clientCount: members.size };
  if (withMembers) {
    info.clientIds = [...members].map((client) => client.id);
    info.uids = [...new Set([...members].flatMap((client) => (client.uid === undefined ? [] : [client.uid])))];
  }
  return info;
}

function storeSession(command: Command, client: Client | undefined, delivery: Delivery): Omit<Reply, 'requestId'> | undefined {
  if (!client) return undefined;
  const json = Buffer.from(command.session ?? []);
  // Checked on the bytes: stored sessions stay within the limit, so the stringify below and every reader is safe.
  if (sessionJsonTooDeep(json)) return { error: `session is ${SESSION_TOO_DEEP}`, errorCode: ErrorCode.BadArgument };
  let incoming: unknown;
  try {
    incoming = JSON.parse(json.toString('utf8') || '{}');
  } catch {
    return { error: 'session is not valid JSON', errorCode: ErrorCode.BadArgument };
  }
  if (typeof incoming !== 'object' || incoming === null || Array.isArray(incoming)) return { error: 'session must be a JSON object', errorCode: ErrorCode.BadArgument };
  if (command.op === Op.UpdateSession) incoming = mergeSession(parseSession(client.session), incoming as Session, command.removedSessionKeys);
  client.storeSession(Buffer.from(JSON.stringify(incoming)));
  delivery.sessionChanged(client);
  return undefined;
}
