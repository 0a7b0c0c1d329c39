import { z } from 'zod';
import type { GatewayApi, MessageData } from '../gateway-api/gateway-api.js';
import { gatewayAddressOf } from '../wire/client-id.js';
import { MAX_SESSION_DEPTH, SESSION_TOO_DEEP, sessionTooDeep } from '../wire/session-depth.js';

/**
 * The Gateway API as HTTP/JSON methods: for each method of GatewayApi, its named arguments (the schema requests are
 * validated with and the OpenAPI document is generated from), the shape of its answer, and the call it makes.
 */
export interface ApiMethod<A extends z.ZodType = z.ZodType> {
  summary: string;
  args: A;
  result: z.ZodType;
  call(api: GatewayApi, args: z.output<A>): Promise<unknown>;
  /** A send: its promise says only that the command is queued on the connections (see GatewayClient's sends). */
  send?: true;
}

const clientId = z
  .string()
  .refine((id) => gatewayAddressOf(id) !== undefined, 'not a client id (hex of gateway address, port and connection number)')
  .describe('a client id, as handlers see it');
const clientIds = z.array(clientId);
const uid = z.string().min(1, 'must not be empty');
const group = z.string().min(1, 'must not be empty');
const session = z
  .record(z.string(), z.unknown())
  .refine((value) => !sessionTooDeep(value), SESSION_TOO_DEEP)
  .describe(`a JSON object, nesting objects and arrays at most ${MAX_SESSION_DEPTH} levels deep (itself the first)`);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `message` as text, or as base64 of bytes when `binary` is true (sent to WebSocket clients as a binary frame). */
const messageFields = {
  message: z.string().describe('the message: text, or base64 when binary is true'),
  binary: z.boolean().optional().describe('message is base64 of bytes, sent as binary'),
};

/** Whether a message said to be binary is base64 (as a .refine, so the HTTP API's compiled checks can run it too). */
function base64WhenBinary(args: { message?: string | undefined; binary?: boolean | undefined }): boolean {
  return args.binary !== true || BASE64.test(args.message ?? '');
}
const NOT_BASE64 = { path: ['message'], message: 'not valid base64' };

function withMessage<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject({ ...shape, ...messageFields }).refine((args) => base64WhenBinary(args as { message: string; binary?: boolean }), NOT_BASE64);
}

/** The message a call sends: the text, or the bytes the base64 stands for. */
function messageOf(args: { message: string; binary?: boolean | undefined }): MessageData {
  return args.binary === true ? Buffer.from(args.message, 'base64') : args.message;
}

function method<A extends z.ZodType>(summary: string, args: A, result: z.ZodType, call: (api: GatewayApi, args: z.output<A>) => Promise<unknown>): ApiMethod {
  return { summary, args, result, call } as ApiMethod;
}

function sendMethod<A extends z.ZodType>(summary: string, args: A, call: (api: GatewayApi, args: z.output<A>) => Promise<unknown>): ApiMethod {
  return { ...method(summary, args, nothing, call), send: true };
}

const none = z.strictObject({});
const nothing = z.null();
const idList = z.array(z.string());
const count = z.number().int();
const sessions = z.record(z.string(), session.nullable());
const byGroup = <T extends z.ZodType>(value: T) => z.record(z.string(), value);
const oneOrMany = <T extends z.ZodType>(item: T, what: string) =>
  z.union([item, z.array(item).min(1, 'must not be empty')], { error: `expected ${what} (a non-empty string) or a non-empty list of them` });

const groups = oneOrMany(group, 'a group');

export const apiMethods: Record<keyof GatewayApi, ApiMethod> = {
  sendToClient: sendMethod('Send to one client.', withMessage({ clientId }), (api, a) => api.sendToClient(a.clientId, messageOf(a))),
  sendToAll: sendMethod(
    'Send to every client, or to those in clientIds, except those in excludeClientIds.',
    withMessage({ clientIds: clientIds.nullable().optional(), excludeClientIds: clientIds.nullable().optional() }),
    (api, a) => api.sendToAll(messageOf(a), a.clientIds, a.excludeClientIds),
  ),
  sendToUid: sendMethod('Send to every client bound to the uid(s).', withMessage({ uid: oneOrMany(uid, 'a uid') }), (api, a) => api.sendToUid(a.uid, messageOf(a))),
  sendToGroup: sendMethod(
    'Send to every client in the group(s), except those in excludeClientIds.',
    withMessage({ group: oneOrMany(group, 'a group'), excludeClientIds: clientIds.nullable().optional() }),
    (api, a) => api.sendToGroup(a.group, messageOf(a), a.excludeClientIds),
  ),

  bindUid: method('Bind the client to a uid (replacing the one it had).', z.strictObject({ clientId, uid }), nothing, (api, a) => api.bindUid(a.clientId, a.uid)),
  unbindUid: method('Unbind the client from the uid.', z.strictObject({ clientId, uid }), nothing, (api, a) => api.unbindUid(a.clientId, a.uid)),
  isOnline: method('Whether the client is connected.', z.strictObject({ clientId }), z.boolean(), (api, a) => api.isOnline(a.clientId)),
  isUidOnline: method('Whether any client is bound to the uid.', z.strictObject({ uid }), z.boolean(), (api, a) => api.isUidOnline(a.uid)),
  getClientIdByUid: method('The clients bound to the uid.', z.strictObject({ uid }), idList, (api, a) => api.getClientIdByUid(a.uid)),
  getUidByClientId: method('The uid the client is bound to, or null.', z.strictObject({ clientId }), z.string().nullable(), (api, a) => api.getUidByClientId(a.clientId)),

  isUidsOnline: method('For each uid: whether any client is bound to it.', z.strictObject({ uids: z.array(uid).min(1, 'must not be empty') }), z.record(z.string(), z.boolean()), (api, a) =>
    api.isUidsOnline(a.uids),
  ),
  batchGetClientIdByUid: method('For each uid: the clients bound to it.', z.strictObject({ uids: z.array(uid).min(1, 'must not be empty') }), z.record(z.string(), idList), (api, a) =>
    api.batchGetClientIdByUid(a.uids),
  ),

  joinGroup: method('Add the client to the group.', z.strictObject({ clientId, group }), nothing, (api, a) => api.joinGroup(a.clientId, a.group)),
  leaveGroup: method('Remove the client from the group.', z.strictObject({ clientId, group }), nothing, (api, a) => api.leaveGroup(a.clientId, a.group)),
  ungroup: method('Dissolve the group(s) (their clients stay connected).', z.strictObject({ group: groups }), nothing, (api, a) => api.ungroup(a.group)),
  getClientIdListByGroup: method('The clients in the group(s), each once.', z.strictObject({ group: groups }), idList, (api, a) => api.getClientIdListByGroup(a.group)),
  getClientCountByGroup: method('How many clients are in the group(s), each counted once.', z.strictObject({ group: groups }), count, (api, a) => api.getClientCountByGroup(a.group)),
  getUidListByGroup: method('The distinct uids of the clients in the group(s).', z.strictObject({ group: groups }), idList, (api, a) => api.getUidListByGroup(a.group)),
  getUidCountByGroup: method('How many distinct uids are in the group(s).', z.strictObject({ group: groups }), count, (api, a) => api.getUidCountByGroup(a.group)),
  batchGetClientIdCountByGroup: method('For each group: how many clients are in it.', z.strictObject({ groups: z.array(group).min(1, 'must not be empty') }), z.record(z.string(), count), (api, a) =>
    api.batchGetClientIdCountByGroup(a.groups),
  ),
  getClientSessionsByGroup: method('The session of each client in the group(s), by client id.', z.strictObject({ group: groups }), sessions, (api, a) =>
    api.getClientSessionsByGroup(a.group),
  ),

  getAllClientIdList: method('Every connected client.', none, idList, (api) => api.getAllClientIdList()),
  getAllClientCount: method('How many clients are connected.', none, count, (api) => api.getAllClientCount()),
  getAllClientSessions: method('The session of every client, by client id.', none, sessions, (api) => api.getAllClientSessions()),
  getAllUidList: method('Every bound uid.', none, idList, (api) => api.getAllUidList()),
  getAllUidCount: method('How many distinct uids are bound.', none, count, (api) => api.getAllUidCount()),
  getAllGroupIdList: method('Every group with members.', none, idList, (api) => api.getAllGroupIdList()),
  getAllGroupClientIdList: method('The clients of every group, by group.', none, byGroup(idList), (api) => api.getAllGroupClientIdList()),
  getAllGroupClientIdCount: method('How many clients each group has, by group.', none, byGroup(count), (api) => api.getAllGroupClientIdCount()),
  getAllGroupUidList: method('The distinct uids of every group, by group.', none, byGroup(idList), (api) => api.getAllGroupUidList()),
  getAllGroupUidCount: method('How many distinct uids each group has, by group.', none, byGroup(count), (api) => api.getAllGroupUidCount()),

  getSession: method('The client\'s session, or null when it is not online.', z.strictObject({ clientId }), session.nullable(), (api, a) => api.getSession(a.clientId)),
  setSession: method('Replace the client\'s session.', z.strictObject({ clientId, session }), nothing, (api, a) => api.setSession(a.clientId, a.session)),
  updateSession: method('Merge keys into the client\'s session (top level).', z.strictObject({ clientId, session }), nothing, (api, a) =>
    api.updateSession(a.clientId, a.session),
  ),

  closeClient: method(
    'Send the message, if given, then close the connection gracefully.',
    z.strictObject({ clientId, message: messageFields.message.optional(), binary: messageFields.binary }).refine(base64WhenBinary, NOT_BASE64),
    nothing,
    (api, a) => api.closeClient(a.clientId, a.message === undefined ? undefined : messageOf({ message: a.message, binary: a.binary })),
  ),
  destroyClient: method('Drop the connection at once.', z.strictObject({ clientId }), nothing, (api, a) => api.destroyClient(a.clientId)),
};

export type ApiMethodName = keyof GatewayApi;

export function isApiMethod(name: string): name is ApiMethodName {
  return Object.hasOwn(apiMethods, name);
}

/** Most calls one batch may hold. */
export const MAX_BATCH_CALLS = 1000;

export const batchSchema = z.strictObject({
  calls: z
    .array(z.strictObject({ method: z.string(), args: z.record(z.string(), z.unknown()).optional() }))
    .min(1, 'must not be empty')
    .max(MAX_BATCH_CALLS, `at most ${MAX_BATCH_CALLS} calls`),
});
