/** TypeScript shapes of the messages in runtime/proto/gwc.proto (field names in camelCase, as protobufjs gives them). */
export enum Role {
  Unspecified = 0,
  Gateway = 1,
  Worker = 2,
  Api = 3,
  Register = 4,
}

export enum EventKind {
  Connect = 0,
  WebSocketConnect = 1,
  Message = 2,
  Close = 3,
}

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
  GetClients = 20,
  CountClients = 21,
  GetUids = 22,
  GetGroups = 23,
  GetClientsByUid = 24,
}

/** protobufjs gives uint64 fields as Long objects when decoding; numbers are accepted when encoding. */
export type Uint64 = number | { toNumber(): number };

export interface Hello {
  role: Role;
  name: string;
  nonce: Uint8Array;
  version: number;
  features?: string[];
  target: string;
}
export interface Challenge {
  nonce: Uint8Array;
  proof: Uint8Array;
  role: Role;
}
export interface Auth {
  proof: Uint8Array;
}
export interface Refused {
  reason: string;
}
export interface GatewayAnnounce {
  address: string;
}
export interface GatewayList {
  addresses: string[];
}
export interface ClientEvent {
  kind: EventKind;
  clientId: string;
  body?: Uint8Array;
  binary?: boolean;
  session?: Uint8Array;
  remoteAddress?: string;
  remotePort?: number;
  url?: string;
  headers?: Record<string, string>;
  sequence?: Uint64;
  redelivery?: boolean;
  awaitsVerdict?: boolean;
  sessionVersion?: number;
}
export interface SessionUpdate {
  clientId: string;
  session: Uint8Array;
  sessionVersion: number;
}
export interface EventAck {
  sequences: Uint64[];
}
export interface UpgradeVerdict {
  sequence: Uint64;
  status: number;
  reason?: string;
}
export interface Command {
  op: Op;
  requestId?: number;
  clientIds?: string[];
  uids?: string[];
  groups?: string[];
  excludeClientIds?: string[];
  body?: Uint8Array;
  binary?: boolean;
  session?: Uint8Array;
  withSession?: boolean;
  withUid?: boolean;
  withMembers?: boolean;
  onlyListed?: boolean;
  removedSessionKeys?: string[];
}
export interface ClientInfo {
  clientId: string;
  uid?: string;
  session?: Uint8Array;
}
export interface GroupInfo {
  group: string;
  clientCount: number;
  clientIds?: string[];
  uids?: string[];
}
export interface Reply {
  requestId: number;
  error?: string;
  clients?: ClientInfo[];
  ids?: string[];
  count?: Uint64;
  groups?: GroupInfo[];
  /** More replies with this request id follow (see gwc.proto). */
  partial?: boolean;
}

/** Exactly one field is set. */
export interface Envelope {
  hello?: Hello;
  challenge?: Challenge;
  auth?: Auth;
  welcome?: Record<string, never>;
  refused?: Refused;
  announce?: GatewayAnnounce;
  subscribe?: Record<string, never>;
  gatewayList?: GatewayList;
  event?: ClientEvent;
  command?: Command;
  reply?: Reply;
  ack?: EventAck;
  heartbeat?: Record<string, never>;
  drain?: Record<string, never>;
  verdict?: UpgradeVerdict;
  sessionUpdate?: SessionUpdate;
}

export type EnvelopeKind = keyof Envelope;

export function toNumber(value: Uint64 | undefined | null): number {
  if (value === undefined || value === null) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
