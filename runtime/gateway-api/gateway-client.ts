import { hostname } from 'node:os';
import { createLogger, type Logger } from '../observability/log.js';
import { checkTlsMaterial } from '../tls/tls-material.js';
import { MutualTlsSockets } from '../tls/mutual-tls-sockets.js';
import { gatewayAddressOf } from '../wire/client-id.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../wire/frame-codec.js';
import { Op, Role, toNumber, type Command, type Envelope, type Reply } from '../wire/types.js';
import type { ReconnectingPeer } from '../wire/reconnecting-peer.js';
import { SESSION_TOO_DEEP, sessionJsonTooDeep, sessionTooDeep } from '../wire/session-depth.js';
import { parseSession } from '../wire/session.js';
import { ClusterConnection } from './cluster-connection.js';
import { GatewayLostError, GatewayTimeoutError } from './gateway-errors.js';
import { PendingRequests } from './pending-requests.js';
import type { ClientSessions, GatewayApi, MessageData, Session } from './gateway-api.js';

export interface GatewayClientOptions {
  /** host:port of the Register, or of several: any one of them serving is enough. */
  registerAddress: string | string[];
  /** The cluster's shared secret. */
  secret: string | Buffer;
  name?: string;
  log?: Logger;
  /** How long a query waits for each gateway's answer, and a command for a gateway connection. Default 5000. */
  requestTimeoutMs?: number;
  /** Largest frame accepted from the cluster; default DEFAULT_MAX_FRAME_BYTES, as for --max-frame-bytes. Larger query answers come in pages. */
  maxFrameBytes?: number;
  /**
   * For a cluster with internal TLS: this client's certificate and key and the cluster CA, as PEM. The client
   * presents its certificate and checks the Register's and gateways' against the CA (not their host names).
   */
  tls?: { cert: string | Buffer; key: string | Buffer; ca: string | Buffer };
  /** Told of every gateway a call went on without (for a metric); the client also logs them, once in a while. */
  onSkipped?: (gateway: string, reason: SkipReason) => void;
}

/** Why a call went on without a gateway: no connection to it (lost, or none could be made), or no answer in time. */
export type SkipReason = 'unreachable' | 'timeout';

/** How often a skipped gateway is logged, at most. */
const SKIP_LOG_INTERVAL_MS = 10_000;

/**
 * The Gateway API over the cluster's internal connections. Handlers get one as `ctx.gateway`; any other Node
 * process creates one with `GatewayClient.connect({ registerAddress, secret })`.
 */
export class GatewayClient implements GatewayApi {
  private readonly timeoutMs: number;
  private readonly requests: PendingRequests;
  private readonly onSkipped: ((gateway: string, reason: SkipReason) => void) | undefined;
  private readonly skipLogged = new Map<string, number>();

  constructor(
    readonly cluster: ClusterConnection,
    options: { requestTimeoutMs?: number; onSkipped?: (gateway: string, reason: SkipReason) => void } = {},
  ) {
    this.timeoutMs = options.requestTimeoutMs ?? 5000;
    this.requests = new PendingRequests(this.timeoutMs);
    this.onSkipped = options.onSkipped;
    cluster.on('envelope', (_address: string, envelope: Envelope) => {
      if (envelope.reply) this.requests.settle(envelope.reply);
    });
    cluster.on('gateway-down', (address: string) => this.requests.gatewayLost(address));
  }

  /** Connects to the Register and resolves once it has sent the gateway list. */
  static async connect(options: GatewayClientOptions): Promise<GatewayClient> {
    const secret = typeof options.secret === 'string' ? Buffer.from(options.secret) : options.secret;
    const log = options.log ?? createLogger({ role: 'api-client' }, 'warn');
    if (options.tls) checkTlsMaterial(options.tls, { cert: 'tls.cert', key: 'tls.key', ca: 'tls.ca' });
    const cluster = new ClusterConnection({
      registerAddress: options.registerAddress,
      secret,
      name: options.name ?? `api@${hostname()}`,
      role: Role.Api,
      log,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      sockets: options.tls ? new MutualTlsSockets(options.tls, log) : undefined,
    }).start();
    const client = new GatewayClient(cluster, options);
    try {
      await cluster.whenListed(client.timeoutMs);
    } catch (error) {
      cluster.stop();
      throw error;
    }
    return client;
  }

  close(): void {
    this.cluster.stop();
    this.requests.failAll(new Error('gateway client closed'));
  }

  // ---- sending ----

  sendToClient(clientId: string, message: MessageData): Promise<void> {
    const address = addressOf(clientId);
    if (address === undefined) return Promise.reject(new Error(`invalid client id: ${shown(clientId)}`));
    return this.sendToClientAt(address, clientId, message);
  }

  /** sendToClient for a client whose gateway is known already (a handler's current client): the id is not parsed. */
  protected sendToClientAt(gatewayAddress: string, clientId: string, message: MessageData): Promise<void> {
    return this.sendTo(gatewayAddress, { op: Op.SendToClient, clientIds: [clientId], body: bodyBytes(message), binary: isBinary(message) });
  }

  // The sends are not async functions: the promise of the command's delivery is handed back as it is, not wrapped
  // in another (a turn of the microtask queue less per call); what is wrong with an argument is still a rejection.

  sendToAll(message: MessageData, clientIds?: string[] | null, excludeClientIds?: string[] | null): Promise<void> {
    try {
      const exclude = excludeClientIds ?? [];
      if (clientIds) {
        return this.toClients(clientIds, { op: Op.SendToAll, onlyListed: true, excludeClientIds: exclude, body: bodyBytes(message), binary: isBinary(message) });
      }
      return this.everywhere({ op: Op.SendToAll, excludeClientIds: exclude, body: bodyBytes(message), binary: isBinary(message) });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sendToUid(uid: string | string[], message: MessageData): Promise<void> {
    try {
      return this.everywhere({ op: Op.SendToUid, uids: names(uid, 'uid'), body: bodyBytes(message), binary: isBinary(message) });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sendToGroup(group: string | string[], message: MessageData, excludeClientIds?: string[] | null): Promise<void> {
    try {
      return this.everywhere({ op: Op.SendToGroup, groups: names(group, 'group'), excludeClientIds: excludeClientIds ?? [], body: bodyBytes(message), binary: isBinary(message) });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // ---- uids ----

  async bindUid(clientId: string, uid: string): Promise<void> {
    return this.toClients([clientId], { op: Op.BindUid, uids: [name(uid, 'uid')] }, ACKNOWLEDGED);
  }

  async unbindUid(clientId: string, uid: string): Promise<void> {
    return this.toClients([clientId], { op: Op.UnbindUid, uids: [name(uid, 'uid')] }, ACKNOWLEDGED);
  }

  async isOnline(clientId: string): Promise<boolean> {
    return (await this.clientInfo(clientId, false, false)) !== undefined;
  }

  async isUidOnline(uid: string): Promise<boolean> {
    return (await this.getClientIdByUid(uid)).length > 0;
  }

  async getClientIdByUid(uid: string): Promise<string[]> {
    const replies = await this.queryAll({ op: Op.GetClientsByUid, uids: [name(uid, 'uid')] });
    return replies.flatMap((reply) => (reply.clients ?? []).map((client) => client.clientId ?? ''));
  }

  async isUidsOnline(uids: string[]): Promise<Record<string, boolean>> {
    const byUid = await this.batchGetClientIdByUid(uids);
    return mapValues(byUid, (clients) => clients.length > 0);
  }

  async batchGetClientIdByUid(uids: string[]): Promise<Record<string, string[]>> {
    const wanted = names(uids, 'uid');
    const result: Record<string, string[]> = Object.fromEntries(wanted.map((uid) => [uid, []]));
    for (const reply of await this.queryAll({ op: Op.GetClientsByUid, uids: wanted })) {
      for (const client of reply.clients ?? []) result[client.uid ?? '']?.push(client.clientId ?? '');
    }
    return result;
  }

  async getUidByClientId(clientId: string): Promise<string | null> {
    const info = await this.clientInfo(clientId, false, true);
    return info?.uid || null;
  }

  // ---- groups ----

  async joinGroup(clientId: string, group: string): Promise<void> {
    return this.toClients([clientId], { op: Op.JoinGroup, groups: [name(group, 'group')] }, ACKNOWLEDGED);
  }

  async leaveGroup(clientId: string, group: string): Promise<void> {
    return this.toClients([clientId], { op: Op.LeaveGroup, groups: [name(group, 'group')] }, ACKNOWLEDGED);
  }

  async ungroup(group: string | string[]): Promise<void> {
    await this.everywhere({ op: Op.Ungroup, groups: names(group, 'group') }, ACKNOWLEDGED);
  }

  // The ...ByGroup queries take a group or a list: the clients in any of them, each once.

  async getClientIdListByGroup(group: string | string[]): Promise<string[]> {
    return Object.keys(await this.sessions({ op: Op.GetClients, groups: names(group, 'group') }));
  }

  async getClientCountByGroup(group: string | string[]): Promise<number> {
    return this.count({ op: Op.CountClients, groups: names(group, 'group') });
  }

  async getUidListByGroup(group: string | string[]): Promise<string[]> {
    return this.distinctIds({ op: Op.GetUids, groups: names(group, 'group') });
  }

  async getUidCountByGroup(group: string | string[]): Promise<number> {
    return (await this.getUidListByGroup(group)).length;
  }

  async getClientSessionsByGroup(group: string | string[]): Promise<ClientSessions> {
    return this.sessions({ op: Op.GetClients, groups: names(group, 'group'), withSession: true });
  }

  async batchGetClientIdCountByGroup(groups: string[]): Promise<Record<string, number>> {
    const wanted = names(groups, 'group');
    const result: Record<string, number> = Object.fromEntries(wanted.map((group) => [group, 0]));
    for (const reply of await this.queryAll({ op: Op.GetGroups, groups: wanted, withMembers: false })) {
      for (const { group = '', clientCount = 0 } of reply.groups ?? []) if (group in result) result[group]! += clientCount;
    }
    return result;
  }

  // ---- everyone ----

  async getAllClientIdList(): Promise<string[]> {
    return Object.keys(await this.sessions({ op: Op.GetClients }));
  }

  getAllClientCount(): Promise<number> {
    return this.count({ op: Op.CountClients });
  }

  getAllClientSessions(): Promise<ClientSessions> {
    return this.sessions({ op: Op.GetClients, withSession: true });
  }

  getAllUidList(): Promise<string[]> {
    return this.distinctIds({ op: Op.GetUids });
  }

  async getAllUidCount(): Promise<number> {
    return (await this.getAllUidList()).length;
  }

  async getAllGroupIdList(): Promise<string[]> {
    return Object.keys(await this.groups(false));
  }

  async getAllGroupClientIdList(): Promise<Record<string, string[]>> {
    const groups = await this.groups(true);
    return mapValues(groups, (group) => group.clientIds);
  }

  async getAllGroupClientIdCount(): Promise<Record<string, number>> {
    const groups = await this.groups(false);
    return mapValues(groups, (group) => group.clientCount);
  }

  async getAllGroupUidList(): Promise<Record<string, string[]>> {
    const groups = await this.groups(true);
    return mapValues(groups, (group) => [...group.uids]);
  }

  async getAllGroupUidCount(): Promise<Record<string, number>> {
    const groups = await this.groups(true);
    return mapValues(groups, (group) => group.uids.size);
  }

  // ---- sessions and connections ----

  async getSession(clientId: string): Promise<Session | null> {
    const info = await this.clientInfo(clientId, true, false);
    return info ? sessionFromGateway(info.session) : null;
  }

  async setSession(clientId: string, session: Session): Promise<void> {
    return this.toClients([clientId], { op: Op.SetSession, session: sessionBytes(session) }, ACKNOWLEDGED);
  }

  async updateSession(clientId: string, partial: Session): Promise<void> {
    return this.toClients([clientId], { op: Op.UpdateSession, session: sessionBytes(partial) }, ACKNOWLEDGED);
  }

  closeClient(clientId: string, message?: MessageData): Promise<void> {
    const command: Command = { op: Op.CloseClient };
    if (message !== undefined) {
      command.body = bodyBytes(message);
      command.binary = isBinary(message);
    }
    return this.toClients([clientId], command);
  }

  destroyClient(clientId: string): Promise<void> {
    return this.toClients([clientId], { op: Op.DestroyClient });
  }

  // ---- plumbing ----

  /**
   * Sends a command to the gateways holding these clients, each getting only its own ids. Sends resolve once
   * written; state changes (`acknowledged`) resolve once the gateway has applied them, so what a caller does
   * next sees the change.
   */
  protected toClients(clientIds: string[], command: Command, acknowledged = false): Promise<void> {
    // Commands are built as fresh literals and never spread: protobufjs encodes such objects several times faster.
    const deliver = acknowledged ? this.requestBound : this.sendToBound;
    if (clientIds.length === 1) {
      const address = addressOf(clientIds[0]);
      if (address === undefined) return Promise.reject(new Error(`invalid client id: ${shown(clientIds[0])}`));
      command.clientIds = clientIds;
      return deliver(address, command).then(ignore);
    }
    const byGateway = new Map<string, string[]>();
    for (const id of clientIds) {
      const address = addressOf(id);
      if (address === undefined) return Promise.reject(new Error(`invalid client id: ${shown(id)}`));
      const ids = byGateway.get(address);
      if (ids) ids.push(id);
      else byGateway.set(address, [id]);
    }
    return Promise.all([...byGateway].map(([address, ids]) => deliver(address, Object.assign({}, command, { clientIds: ids })))).then(ignore);
  }

  /**
   * A command for every gateway. One that cannot be reached (its connection lost, or none could be made) holds no
   * client this call could reach and is skipped; so is one that does not acknowledge in time: the call is done at
   * the others, and the skipped ones are reported.
   */
  private everywhere(command: Command, acknowledged = false): Promise<void> {
    // Once the gateways are known (from the first list on), the command is handed to them in this call, awaiting nothing.
    if (!this.cluster.hasList) return this.cluster.whenListed(this.timeoutMs).then(() => this.everywhere(command, acknowledged));
    if (!acknowledged) {
      const targets = this.cluster.targets();
      // A send's promise (sendTo's) already resolves to nothing: one is handed back as it is.
      if (targets.length === 1) return this.sendTo(targets[0]!, command);
      return Promise.all(targets.map((address) => this.sendTo(address, command))).then(ignore);
    }
    const parts = this.cluster.targets().map((address) => this.withoutLateGateway(address, this.request(address, { ...command })));
    return (parts.length === 1 ? parts[0]! : Promise.all(parts)).then(ignore);
  }

  /** A gateway's part of a call to every gateway: one that does not answer in time adds nothing (and is reported). */
  private withoutLateGateway<T>(address: string, part: Promise<T>): Promise<T | undefined> {
    return this.skippedOn(address, part, GatewayTimeoutError, 'timeout');
  }

  /** `part`, or undefined when it fails with a `kind` error: the gateway is reported skipped for `reason`. */
  private async skippedOn<T>(address: string, part: Promise<T>, kind: new (...args: never[]) => Error, reason: SkipReason): Promise<T | undefined> {
    try {
      return await part;
    } catch (error) {
      if (!(error instanceof kind)) throw error;
      this.skipped(address, reason);
      return undefined;
    }
  }

  private skipped(address: string, reason: SkipReason): void {
    this.onSkipped?.(address, reason);
    const now = Date.now();
    if (now - (this.skipLogged.get(address) ?? -Infinity) < SKIP_LOG_INTERVAL_MS) return;
    this.skipLogged.set(address, now);
    this.cluster.log.warn('Gateway API call went on without a gateway', { gateway: address, reason });
  }

  private readonly sendToBound = this.sendTo.bind(this);
  private readonly requestBound = this.request.bind(this);

  /**
   * The link to a gateway the Register announced. Any other address (a client id can name any) gets no connection:
   * the caller does nothing, as for a client that is not online.
   */
  private linkTo(address: string, command: Command): ReconnectingPeer | undefined {
    const link = this.cluster.link(address);
    if (!link) this.cluster.log.debug('not a gateway of this cluster: command dropped', { logEvent: 'command-dropped', gateway: address, op: Op[command.op ?? Op.Unspecified] });
    return link;
  }

  /**
   * The link to write to now, waiting for one still being made; undefined (the caller does nothing, as for clients
   * that are not online) for an address that is not a gateway of this cluster, or a gateway that cannot be reached:
   * its connection was lost (its clients were connected to it), or dialling it has failed.
   */
  private async usableLink(address: string, command: Command): Promise<ReconnectingPeer | undefined> {
    const link = this.linkTo(address, command);
    if (!link || link.ready) return link;
    if (!link.unreachable) {
      try {
        await link.whenReady(this.timeoutMs);
        return link;
      } catch {
        // not reached in time, or dropped meanwhile
      }
    }
    this.skipped(address, 'unreachable');
    return undefined;
  }

  private sendTo(address: string, command: Command): Promise<void> {
    const link = this.cluster.link(address);
    // Resolves at once unless the gateway is not keeping up: then a caller that awaits slows down with it.
    if (link?.send({ command })) return link.current!.whenDrained();
    return this.usableLink(address, command).then((ready) => {
      if (ready && !ready.send({ command })) this.skipped(address, 'unreachable');
    });
  }

  /**
   * The gateway's answer; undefined when `address` is not a gateway of this cluster or cannot be reached (before or
   * while asking). A connected gateway that does not answer in time fails it with a GatewayTimeoutError.
   */
  private async request(address: string, command: Command): Promise<Reply | undefined> {
    const link = await this.usableLink(address, command);
    if (!link) return undefined;
    const { requestId, reply } = this.requests.open(address);
    command.requestId = requestId;
    if (!link.send({ command })) this.requests.fail(requestId, new GatewayLostError(address));
    return this.skippedOn(address, reply, GatewayLostError, 'unreachable');
  }

  /**
   * A query of every gateway, merged from those that answer: one that cannot be reached has no clients this
   * caller could reach, and one that does not answer in time is left out; both are reported (skipped).
   */
  private async queryAll(command: Command): Promise<Reply[]> {
    await this.cluster.whenListed(this.timeoutMs);
    const replies = await Promise.all(this.cluster.targets().map((address) => this.withoutLateGateway(address, this.request(address, { ...command }))));
    return replies.filter((reply): reply is Reply => reply !== undefined);
  }

  private async clientInfo(clientId: string, withSession: boolean, withUid: boolean) {
    const address = addressOf(clientId);
    if (address === undefined) throw new Error(`invalid client id: ${shown(clientId)}`);
    const reply = await this.request(address, { op: Op.GetClients, clientIds: [clientId], withSession, withUid });
    return reply?.clients?.[0];
  }

  private async sessions(command: Command): Promise<ClientSessions> {
    const result: ClientSessions = {};
    for (const reply of await this.queryAll(command)) {
      for (const client of reply.clients ?? []) result[client.clientId ?? ''] = command.withSession ? sessionFromGateway(client.session) : null;
    }
    return result;
  }

  private async count(command: Command): Promise<number> {
    const replies = await this.queryAll(command);
    return replies.reduce((sum, reply) => sum + toNumber(reply.count), 0);
  }

  private async distinctIds(command: Command): Promise<string[]> {
    const replies = await this.queryAll(command);
    return [...new Set(replies.flatMap((reply) => reply.ids ?? []))];
  }

  private async groups(withMembers: boolean) {
    const merged: Record<string, { clientCount: number; clientIds: string[]; uids: Set<string> }> = {};
    for (const reply of await this.queryAll({ op: Op.GetGroups, withMembers })) {
      for (const group of reply.groups ?? []) {
        const entry = (merged[group.group ?? ''] ??= { clientCount: 0, clientIds: [], uids: new Set() });
        entry.clientCount += group.clientCount ?? 0;
        entry.clientIds.push(...(group.clientIds ?? []));
        for (const uid of group.uids ?? []) entry.uids.add(uid);
      }
    }
    return merged;
  }
}

const ACKNOWLEDGED = true;

function ignore(): void {}

/** Texts up to this long are remembered as bytes, the last one: see bodyBytes. */
const REMEMBERED_TEXT_CHARS = 4096;
let lastText: string | undefined;
let lastTextBytes: Buffer | undefined;

/**
 * A message's bytes. The same text sent again (one message to many uids or clients, call after call) gets the bytes
 * made for it last time rather than its UTF-8 encoded again: the bytes of a command are only ever read.
 */
function bodyBytes(message: MessageData): Uint8Array {
  if (typeof message === 'string') {
    if (message === lastText) return lastTextBytes!;
    const bytes = Buffer.from(message);
    if (message.length <= REMEMBERED_TEXT_CHARS) {
      lastText = message;
      lastTextBytes = bytes;
    }
    return bytes;
  }
  // Anything else would be taken apart element by element while it is encoded (recursively, for nested arrays).
  if (!(message instanceof Uint8Array)) throw new TypeError(`a message must be a string or a Uint8Array, got ${shown(message)}`);
  return message;
}

/** The gateway a client id names; undefined for anything that is not a client id (a string of the right form). */
function addressOf(clientId: unknown): string | undefined {
  return typeof clientId === 'string' ? gatewayAddressOf(clientId) : undefined;
}

/** A caller's value in an error message: a string quoted (and cut short), anything else by its kind, never walked. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return typeof value === 'function' ? 'a function' : String(value);
}

function isBinary(message: MessageData): boolean {
  return typeof message !== 'string';
}

/** A uid or group name: a string, not empty (a number is taken as its text, as GatewayWorker does). */
function name(value: string, what: 'uid' | 'group'): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || text === '') throw new TypeError(`${what} must be a non-empty string, got ${shown(value)}`);
  return text;
}

/** One uid or group name, or a non-empty list of them. */
function names(value: string | string[], what: 'uid' | 'group'): string[] {
  if (!Array.isArray(value)) return [name(value, what)];
  if (value.length === 0) throw new TypeError(`a list of ${what}s must not be empty`);
  return value.map((entry) => name(entry, what));
}

/** A session as JSON; past the depth limit it is refused before JSON.stringify, which its depth could overflow. */
function sessionBytes(session: Session): Buffer {
  if (sessionTooDeep(session)) throw new TypeError(`session is ${SESSION_TOO_DEEP}`);
  return Buffer.from(JSON.stringify(session));
}

/**
 * A session a gateway sent, checked before use: one past the depth limit (which no gateway of ours stores) is refused
 * rather than handed to a caller that turns it into JSON again (the HTTP API does), which its depth could overflow.
 */
function sessionFromGateway(bytes: Uint8Array | undefined): Session {
  if (bytes && sessionJsonTooDeep(bytes)) throw new Error(`a gateway answered with a session ${SESSION_TOO_DEEP}`);
  return parseSession(bytes);
}

function mapValues<T, R>(record: Record<string, T>, fn: (value: T) => R): Record<string, R> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
