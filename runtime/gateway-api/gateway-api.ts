/**
 * The Gateway API: GatewayWorker's Lib/Gateway.php as a typed, promise-based interface.
 * Handler code gets it as `ctx.gateway`; any Node process gets it from `new GatewayClient(...)`.
 */
import type { Session } from '../wire/session.js';

export type { Session };
export type MessageData = string | Uint8Array;
export type ClientSessions = Record<string, Session | null>;

/** A uid or group is a non-empty string; an empty one, or an empty list, is refused with a TypeError. */
export interface GatewayApi {
  sendToClient(clientId: string, message: MessageData): Promise<void>;
  /** To every client, or to those in `clientIds` when given, except those in `excludeClientIds`. */
  sendToAll(message: MessageData, clientIds?: string[] | null, excludeClientIds?: string[] | null): Promise<void>;
  sendToUid(uid: string | string[], message: MessageData): Promise<void>;
  sendToGroup(group: string | string[], message: MessageData, excludeClientIds?: string[] | null): Promise<void>;

  bindUid(clientId: string, uid: string): Promise<void>;
  unbindUid(clientId: string, uid: string): Promise<void>;
  isOnline(clientId: string): Promise<boolean>;
  isUidOnline(uid: string): Promise<boolean>;
  getClientIdByUid(uid: string): Promise<string[]>;
  getUidByClientId(clientId: string): Promise<string | null>;
  /** For each uid: whether any client is bound to it. */
  isUidsOnline(uids: string[]): Promise<Record<string, boolean>>;
  /** For each uid: the clients bound to it. */
  batchGetClientIdByUid(uids: string[]): Promise<Record<string, string[]>>;

  joinGroup(clientId: string, group: string): Promise<void>;
  leaveGroup(clientId: string, group: string): Promise<void>;
  /** Dissolves a group (or each of a list): every member leaves it (the clients stay connected). */
  ungroup(group: string | string[]): Promise<void>;
  // A group or a list of them: the clients in any of them, each counted once.
  getClientIdListByGroup(group: string | string[]): Promise<string[]>;
  getClientCountByGroup(group: string | string[]): Promise<number>;
  getUidListByGroup(group: string | string[]): Promise<string[]>;
  getUidCountByGroup(group: string | string[]): Promise<number>;
  getClientSessionsByGroup(group: string | string[]): Promise<ClientSessions>;
  /** For each group: how many clients are in it. */
  batchGetClientIdCountByGroup(groups: string[]): Promise<Record<string, number>>;

  getAllClientIdList(): Promise<string[]>;
  getAllClientCount(): Promise<number>;
  getAllClientSessions(): Promise<ClientSessions>;
  getAllUidList(): Promise<string[]>;
  getAllUidCount(): Promise<number>;
  getAllGroupIdList(): Promise<string[]>;
  getAllGroupClientIdList(): Promise<Record<string, string[]>>;
  getAllGroupClientIdCount(): Promise<Record<string, number>>;
  getAllGroupUidList(): Promise<Record<string, string[]>>;
  getAllGroupUidCount(): Promise<Record<string, number>>;

  getSession(clientId: string): Promise<Session | null>;
  /** Replaces the whole session. */
  setSession(clientId: string, session: Session): Promise<void>;
  /** Merges keys into the session. */
  updateSession(clientId: string, partial: Session): Promise<void>;

  /** Sends `message` if given, then closes the connection gracefully. */
  closeClient(clientId: string, message?: MessageData): Promise<void>;
  /** Drops the connection at once. */
  destroyClient(clientId: string): Promise<void>;
}
