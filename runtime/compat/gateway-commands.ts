/**
 * What each GatewayClient command does here: it becomes one or a few of our Commands, run against this gateway's
 * clients as a worker's would be, and a query's result is shaped as GatewayWorker's Gateway::onWorkerMessage
 * shapes it (v4.0.0): maps keyed by connection id in connection order, '' for a session never set, integer 0/1.
 * Only GatewayClient's commands are here; events and the worker's commands are refused before (gateway-client-port.ts).
 */
import { isUtf8 } from 'node:buffer';
import { EMPTY_SESSION, parseSession } from '../wire/session.js';
import { Op, type ClientInfo, type Command, type Reply } from '../wire/types.js';
import { Cmd, FLAG_BODY_IS_SCALAR, type GatewayFrame } from './gateway-protocol.js';
import { replaceRecursive, sessionFromPhp, sessionToPhp, sessionValueFromPhp } from './php-session.js';
import { PhpArray, phpKey, phpSerialize } from './php-serialize.js';
import { phpUnserialize } from './php-unserialize.js';

/** What the commands need from the gateway they run on. */
export interface CompatGateway {
  /** Runs one of our commands against this gateway's clients, as a worker's command runs. */
  execute(command: Command): Omit<Reply, 'requestId'> | undefined;
  /** Our id of this gateway's client with GatewayWorker's `connection_id`. */
  clientId(connectionId: number): string;
}

/** A command whose arguments cannot be used (names the argument): its connection is closed. */
export class CompatArgumentError extends Error {}

/** The answer to a query (serialize()d, to be framed), or undefined for a command that has none. */
export function runGatewayCommand(frame: GatewayFrame, gateway: CompatGateway): Buffer | undefined {
  const run = (command: Command) => {
    const reply = gateway.execute(command);
    if (reply?.error) throw new CompatArgumentError(reply.error);
    return reply ?? {};
  };
  const target = () => [gateway.clientId(frame.connectionId)];
  const ext = frame.extData.toString('utf8');
  const answer = (value: unknown) => phpSerialize(value);

  switch (frame.cmd) {
    case Cmd.SEND_TO_ONE:
      run({ op: Op.SendToClient, clientIds: target(), ...message(frame) });
      return undefined;
    case Cmd.KICK: {
      const body = message(frame);
      run({ op: Op.CloseClient, clientIds: target(), ...(body.body.length > 0 ? body : {}) });
      return undefined;
    }
    case Cmd.DESTROY:
      run({ op: Op.DestroyClient, clientIds: target() });
      return undefined;
    case Cmd.SEND_TO_ALL: {
      const options = jsonObject(frame.extData, 'ext_data', true);
      if (options.connections !== undefined) {
        const ids = connectionIds(options.connections, 'connections').map(gateway.clientId);
        // An empty list is nobody (GatewayWorker), where ours would mean everyone.
        if (ids.length > 0) run({ op: Op.SendToAll, onlyListed: true, clientIds: ids, ...message(frame) });
        return undefined;
      }
      const exclude = options.exclude ? connectionIds(options.exclude, 'exclude').map(gateway.clientId) : [];
      run({ op: Op.SendToAll, excludeClientIds: exclude, ...message(frame) });
      return undefined;
    }
    case Cmd.SEND_TO_UID:
      run({ op: Op.SendToUid, uids: names(jsonValue(frame.extData, 'ext_data'), 'uid list'), ...message(frame) });
      return undefined;
    case Cmd.SEND_TO_GROUP: {
      const options = jsonObject(frame.extData, 'ext_data', false);
      const exclude = options.exclude ? connectionIds(options.exclude, 'exclude').map(gateway.clientId) : [];
      run({ op: Op.SendToGroup, groups: names(options.group, 'group'), excludeClientIds: exclude, ...message(frame) });
      return undefined;
    }
    // GatewayWorker ignores an empty uid or group, and so "0" (PHP's empty()).
    case Cmd.BIND_UID:
      if (!phpEmpty(ext)) run({ op: Op.BindUid, clientIds: target(), uids: [ext] });
      return undefined;
    case Cmd.UNBIND_UID:
      if (!phpEmpty(ext)) run({ op: Op.UnbindUid, clientIds: target(), uids: [ext] });
      return undefined;
    case Cmd.JOIN_GROUP:
      if (!phpEmpty(ext)) run({ op: Op.JoinGroup, clientIds: target(), groups: [ext] });
      return undefined;
    case Cmd.LEAVE_GROUP:
      if (!phpEmpty(ext)) run({ op: Op.LeaveGroup, clientIds: target(), groups: [ext] });
      return undefined;
    case Cmd.UNGROUP:
      if (!phpEmpty(ext)) run({ op: Op.Ungroup, groups: [ext] });
      return undefined;
    case Cmd.SET_SESSION:
      run({ op: Op.SetSession, clientIds: target(), session: sessionFromPhp(frame.extData) });
      return undefined;
    case Cmd.UPDATE_SESSION: {
      const current = run({ op: Op.GetClients, clientIds: target(), withSession: true }).clients?.[0];
      if (!current) return undefined;
      const incoming = sessionValueFromPhp(frame.extData);
      // GatewayWorker merges with array_replace_recursive into a session that was set, and stores one that was not.
      const merged = current.session?.length ? replaceRecursive(parseSession(current.session), incoming) : incoming;
      run({ op: Op.SetSession, clientIds: target(), session: Buffer.from(JSON.stringify(asSession(merged))) });
      return undefined;
    }
    case Cmd.GET_SESSION_BY_CLIENT_ID: {
      const client = run({ op: Op.GetClients, clientIds: target(), withSession: true }).clients?.[0];
      return client ? sessionToPhp(client.session ?? EMPTY_SESSION) : answer(null);
    }
    case Cmd.GET_ALL_CLIENT_SESSIONS:
      return answer(sessionsByConnection(run({ op: Op.GetClients, withSession: true }).clients));
    case Cmd.GET_CLIENT_SESSIONS_BY_GROUP:
      return answer(sessionsByConnection(run({ op: Op.GetClients, groups: [ext], withSession: true }).clients));
    case Cmd.IS_ONLINE:
      return answer(run({ op: Op.GetClients, clientIds: target() }).clients?.length ? 1 : 0);
    case Cmd.GET_CLIENT_COUNT_BY_GROUP:
      return answer(Number(run(ext === '' ? { op: Op.CountClients } : { op: Op.CountClients, groups: [ext] }).count ?? 0));
    case Cmd.GET_CLIENT_ID_BY_UID:
      return answer((run({ op: Op.GetClientsByUid, uids: [ext] }).clients ?? []).map((client) => connectionOf(client.clientId)));
    case Cmd.BATCH_GET_CLIENT_ID_BY_UID: {
      const uids = names(jsonValue(frame.extData, 'ext_data'), 'uid list');
      const byUid = new Map<string | number, number[]>(uids.map((uid) => [phpKey(uid), []]));
      for (const client of run({ op: Op.GetClientsByUid, uids }).clients ?? []) byUid.get(phpKey(client.uid ?? ''))?.push(connectionOf(client.clientId));
      return answer(new PhpArray([...byUid]));
    }
    case Cmd.BATCH_GET_CLIENT_COUNT_BY_GROUP: {
      const groups = names(jsonValue(frame.extData, 'ext_data'), 'group list');
      const counts = new Map((run({ op: Op.GetGroups, groups }).groups ?? []).map((group) => [group.group ?? '', group.clientCount ?? 0]));
      return answer(new PhpArray(groups.map((group) => [group, counts.get(group) ?? 0])));
    }
    case Cmd.GET_GROUP_ID_LIST:
      // array_keys() of the group table: a group named like an integer comes back as one.
      return answer((run({ op: Op.GetGroups }).groups ?? []).map((group) => phpKey(group.group ?? '')));
    case Cmd.SELECT:
      return answer(select(frame.extData, run, gateway.clientId));
    default:
      throw new CompatArgumentError(`command ${frame.cmd} is not one of GatewayClient's`);
  }
}

/** The connection id (GatewayWorker's) inside one of our client ids: its last 4 bytes. */
export function connectionOf(clientId: string | undefined = ''): number {
  return Number.parseInt(clientId.slice(-8), 16);
}

/** PHP's empty() of a string: '' and '0'. */
function phpEmpty(text: string): boolean {
  return text === '' || text === '0';
}

/** The message of a send: the body's bytes (a scalar), or a serialize()d string or number; text when it is UTF-8. */
function message(frame: GatewayFrame): { body: Buffer; binary: boolean } {
  let body = frame.body;
  if (!(frame.flag & FLAG_BODY_IS_SCALAR)) {
    // closeClient($id) without a message sends serialize(null).
    const value = frame.body.length === 0 ? null : phpUnserialize(frame.body, 1);
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new CompatArgumentError('the message must be a string');
    }
    body = Buffer.from(value === null || value === false ? '' : value === true ? '1' : String(value));
  }
  return { body, binary: !isUtf8(body) };
}

function jsonValue(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CompatArgumentError(`${what} is not JSON`);
  }
}

/** ext_data holding a JSON object ({} when `emptyAllowed` and there is none: sendToAll to everyone). */
function jsonObject(bytes: Buffer, what: string, emptyAllowed: boolean): Record<string, unknown> {
  if (bytes.length === 0 && emptyAllowed) return {};
  const value = jsonValue(bytes, what);
  if (typeof value !== 'object' || value === null) throw new CompatArgumentError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** PHP arrays arrive as JSON arrays or objects; GatewayWorker iterates over their values. */
function valuesOf(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'object' && value !== null) return Object.values(value);
  throw new CompatArgumentError(`${what} is not a list`);
}

function connectionIds(value: unknown, what: string): number[] {
  return valuesOf(value, what).map((id) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new CompatArgumentError(`${what}: ${JSON.stringify(id)} is not a connection id`);
    return id;
  });
}

/** uids and groups: PHP keys, so strings or integers (a single one is a list of one). */
function names(value: unknown, what: string): string[] {
  const list = typeof value === 'string' || typeof value === 'number' ? [value] : valuesOf(value, what);
  return list.map((name) => {
    if (typeof name === 'string') return name;
    if (typeof name === 'number' && Number.isInteger(name)) return String(name);
    throw new CompatArgumentError(`${what}: ${JSON.stringify(name)} is not a string or an integer`);
  });
}

/** connection id => serialize()d session ('' for one never set), GatewayWorker's `$connection->session`. */
function sessionsByConnection(clients: ClientInfo[] | undefined): PhpArray {
  return new PhpArray((clients ?? []).map((client) => [connectionOf(client.clientId), storedSession(client)]));
}

function storedSession(client: ClientInfo): string {
  return client.session?.length ? sessionToPhp(client.session).toString('utf8') : '';
}

function asSession(value: unknown): Record<string, unknown> {
  return Array.isArray(value) ? { ...value } : (value as Record<string, unknown>);
}

type Run = (command: Command) => Omit<Reply, 'requestId'>;

/**
 * CMD_SELECT: `{fields: [...], where: {groups?, uid?, connection_id?}}` → connection id => {field => value} for the
 * clients any condition names (each condition in turn, a client once), or every client without conditions.
 * Fields: uid (null when unbound), groups (group => group, null when none), session (serialize()d, '' when never
 * set); any other name is null (GatewayWorker read it off its connection object).
 */
function select(extData: Buffer, run: Run, toClientId: (connectionId: number) => string): PhpArray {
  let request: { fields?: unknown; where?: unknown };
  try {
    request = JSON.parse(extData.toString('utf8')) as typeof request;
  } catch {
    return new PhpArray([]); // GatewayWorker answers an unreadable select with an empty array
  }
  if (typeof request !== 'object' || request === null) return new PhpArray([]);
  const fields = names(request.fields ?? [], 'fields');
  const wanted = { withUid: fields.includes('uid'), withSession: fields.includes('session') };
  const found = new Map<number, ClientInfo>();
  const add = (clients: ClientInfo[] | undefined, replace: boolean) => {
    for (const client of clients ?? []) {
      const id = connectionOf(client.clientId);
      if (replace || !found.has(id)) found.set(id, client);
    }
  };
  const where = request.where;
  if (typeof where === 'object' && where !== null && Object.keys(where).length > 0) {
    for (const [key, items] of Object.entries(where)) {
      if (key === 'groups') add(run({ op: Op.GetClients, groups: names(items, 'where.groups'), ...wanted }).clients, false);
      if (key === 'uid') {
        const bound = run({ op: Op.GetClientsByUid, uids: names(items, 'where.uid') }).clients ?? [];
        if (bound.length > 0) add(run({ op: Op.GetClients, clientIds: bound.map((client) => client.clientId ?? ''), ...wanted }).clients, false);
      }
      if (key === 'connection_id') {
        const clientIds = connectionIds(items, 'where.connection_id').map(toClientId);
        if (clientIds.length > 0) add(run({ op: Op.GetClients, clientIds, ...wanted }).clients, true);
      }
    }
  } else {
    add(run({ op: Op.GetClients, ...wanted }).clients, false);
  }
  const groupsOf = fields.includes('groups') ? groupsByClient(run) : undefined;
  return new PhpArray(
    [...found].map(([id, client]) => [
      id,
      new PhpArray(fields.map((field) => [field, fieldValue(field, client, groupsOf)])),
    ]),
  );
}

function fieldValue(field: string, client: ClientInfo, groupsOf: Map<string, string[]> | undefined): unknown {
  switch (field) {
    case 'uid':
      return client.uid || null;
    case 'session':
      return storedSession(client);
    case 'groups': {
      const groups = groupsOf?.get(client.clientId ?? '');
      return groups ? new PhpArray(groups.map((group) => [group, group])) : null;
    }
    default:
      return null;
  }
}

/** Each client's groups, from the group table. */
function groupsByClient(run: Run): Map<string, string[]> {
  const byClient = new Map<string, string[]>();
  for (const group of run({ op: Op.GetGroups, withMembers: true }).groups ?? []) {
    for (const clientId of group.clientIds ?? []) {
      const list = byClient.get(clientId);
      if (list) list.push(group.group ?? '');
      else byClient.set(clientId, [group.group ?? '']);
    }
  }
  return byClient;
}
