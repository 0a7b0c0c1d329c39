// Generated from runtime/proto/gwc.proto by `npm run proto-types`; do not edit by hand.

/** A 64-bit integer: protobufjs decodes it as a number here (proto-schema.ts turns Long off), and encodes either. */
export type Uint64 = number | { toNumber(): number };

/** One field at most is set: they form the oneof `body`. */
export interface Envelope {
  hello?: Hello;
  challenge?: Challenge;
  auth?: Auth;
  welcome?: Welcome;
  refused?: Refused;
  announce?: GatewayAnnounce;
  subscribe?: Subscribe;
  gatewayList?: GatewayList;
  event?: ClientEvent;
  command?: Command;
  reply?: Reply;
  ack?: EventAck;
  drain?: Drain;
  verdict?: UpgradeVerdict;
  sessionUpdate?: SessionUpdate;
  heartbeat?: Heartbeat;
}

export enum Role {
  Unspecified = 0,
  Gateway = 1,
  Worker = 2,
  Api = 3,
  Register = 4,
}

/**
 * Handshake: the dialer says who it is, which address it dialed and sends a nonce; the listener checks that the
 * address is its own and answers with its role, its own nonce and a proof; the dialer checks the proof and proves
 * itself. Proofs are HMAC-SHA256 with the shared secret (which never crosses the wire) over the protocol version,
 * both roles, the dialed address, both nonces and, over TLS, keying material exported from the TLS session; the
 * dialer's and the listener's proofs carry different labels. A handshake relayed by a third party therefore fails
 * on both ends: the listener's proof names another address than the one the dialer dialed (handshake.ts).
 */
export interface Hello {
  role?: Role;
  name?: string;
  nonce?: Uint8Array;
  /** PROTOCOL_VERSION in handshake.ts; a peer speaking another version is refused. */
  version?: number;
  /**
   * What the sender's side offers: "upgrade-verdicts", a worker whose handler decides WebSocket upgrades;
   * "session-updates", a worker that takes SessionUpdate.
   */
  features?: string[];
  /** The address the dialer dialed (as it dialed it): a gateway's announced address, or the Register's address. */
  target?: string;
}

export interface Challenge {
  nonce?: Uint8Array;
  proof?: Uint8Array;
  role?: Role;
}

export interface Auth {
  proof?: Uint8Array;
}

export type Welcome = Record<string, never>;

export interface Refused {
  reason?: string;
}

/** Gateway -> Register: "clients' commands reach me at this address" (lanIp:internalPort). */
export interface GatewayAnnounce {
  address?: string;
}

/** Worker or API client -> Register: "push me the gateway list, now and on every change". */
export type Subscribe = Record<string, never>;

/** Register -> Worker or API client: the gateways announced to it, sent on Subscribe and on every change. */
export interface GatewayList {
  addresses?: string[];
}

/** What happened on a client connection. */
export enum EventKind {
  Connect = 0,
  WebSocketConnect = 1,
  Message = 2,
  Close = 3,
}

/** Gateway -> Worker: something happened on a client connection. */
export interface ClientEvent {
  kind?: EventKind;
  clientId?: string;
  body?: Uint8Array;
  binary?: boolean;
  /** The client's session (JSON) when the event was sent; empty when it has none. */
  session?: Uint8Array;
  remoteAddress?: string;
  remotePort?: number;
  /** WEB_SOCKET_CONNECT only: the upgrade request. */
  url?: string;
  headers?: Record<string, string>;
  /** Per gateway, increasing; with the gateway's address it identifies the event. */
  sequence?: Uint64;
  /** Sent before to a worker that went away without acknowledging it: a handler may have seen it already. */
  redelivery?: boolean;
  /** WEB_SOCKET_CONNECT only: the gateway holds the upgrade until the worker answers with an UpgradeVerdict. */
  awaitsVerdict?: boolean;
  /** How many times the session had been written on this gateway when `session` was taken (0: never). */
  sessionVersion?: number;
}

/**
 * Gateway -> Worker (one that offered "session-updates"): the session of a client whose events that worker still
 * holds was written (by anyone, the worker itself included), so the events it already has carry an older one. A
 * worker runs each event with the session of the highest version it has seen.
 */
export interface SessionUpdate {
  clientId?: string;
  session?: Uint8Array;
  sessionVersion?: number;
}

/**
 * Worker -> Gateway: "send me no new events" (it is stopping).
 * Gateway -> Worker: the answer, once the gateway has stopped routing to that worker, so everything after it on that
 * connection is commands' replies only.
 */
export type Drain = Record<string, never>;

/**
 * Worker -> Gateway: these events are handled (their callbacks returned or threw); the gateway forgets them.
 * Events a worker never acknowledges are redelivered to another worker when its connection is lost.
 */
export interface EventAck {
  sequences?: Uint64[];
}

/**
 * Worker -> Gateway: the answer to a WEB_SOCKET_CONNECT event that awaits a verdict. Status 0 completes the
 * upgrade; any other status is the HTTP status the upgrade request is refused with.
 */
export interface UpgradeVerdict {
  sequence?: Uint64;
  status?: number;
  reason?: string;
}

/** What a Command does. Queries (20 and up) are answered with a Reply carrying the same request_id. */
export enum Op {
  Unspecified = 0,
  SendToClient = 1,
  SendToAll = 2,
  SendToUid = 3,
  SendToGroup = 4,
  BindUid = 5,
  UnbindUid = 6,
  JoinGroup = 7,
  LeaveGroup = 8,
  Ungroup = 9,
  CloseClient = 10,
  DestroyClient = 11,
  SetSession = 12,
  UpdateSession = 13,
  /** ClientInfo per client: all, or those in `groups`, or `client_ids`. */
  GetClients = 20,
  /** count: all, or in `groups`. */
  CountClients = 21,
  /** Distinct uids: all, or of clients in `groups`. */
  GetUids = 22,
  /** GroupInfo per group: all, or those in `groups`. */
  GetGroups = 23,
  /** ClientInfo (id and uid) of each client bound to any of `uids`. */
  GetClientsByUid = 24,
}

/** Worker or API client -> Gateway. */
export interface Command {
  op?: Op;
  /** Non-zero when the sender wants a Reply. */
  requestId?: number;
  clientIds?: string[];
  uids?: string[];
  groups?: string[];
  excludeClientIds?: string[];
  body?: Uint8Array;
  binary?: boolean;
  /** JSON object for SET_SESSION / UPDATE_SESSION. */
  session?: Uint8Array;
  /** GET_CLIENTS: which fields to fill in. */
  withSession?: boolean;
  withUid?: boolean;
  /** GET_GROUPS: include member lists, not just counts. */
  withMembers?: boolean;
  /** SEND_TO_ALL: restrict to `client_ids` (an empty list means everyone). */
  onlyListed?: boolean;
  /** UPDATE_SESSION: top-level keys to delete after merging `session` (a worker writing back what a callback did). */
  removedSessionKeys?: string[];
}

export interface ClientInfo {
  clientId?: string;
  uid?: string;
  session?: Uint8Array;
}

export interface GroupInfo {
  group?: string;
  clientCount?: number;
  clientIds?: string[];
  uids?: string[];
}

/** Why a Command failed; Reply.error says it in words. */
export enum ErrorCode {
  /** From a gateway that predates error codes: nothing more is known. */
  Unspecified = 0,
  /** An argument the gateway cannot use: a session that is not a JSON object, say. */
  BadArgument = 1,
  /** An op the gateway does not know (it is older than the sender). */
  UnknownOp = 2,
  /** What the command names does not exist. Not sent yet: a command about a client that is gone does nothing. */
  NotFound = 3,
  /** The answer does not fit a frame: one entry is larger, or the asker does not take pages. */
  TooLarge = 4,
  /** The gateway failed to carry the command out. */
  Internal = 5,
}

/** Gateway -> Worker or API client: the answer to a Command with a request_id. */
export interface Reply {
  requestId?: number;
  /** Set when the command failed, with error_code. */
  error?: string;
  clients?: ClientInfo[];
  ids?: string[];
  count?: Uint64;
  groups?: GroupInfo[];
  /**
   * More replies with this request_id follow; the caller merges their lists (their other fields come in the last).
   * Only to a peer whose Hello offered "paged-replies": an answer larger than a frame is split into pages.
   */
  partial?: boolean;
  errorCode?: ErrorCode;
}

/** Sent by every role when it has been idle for a heartbeat interval; a peer silent for three is taken for gone. */
export type Heartbeat = Record<string, never>;
