/** Public API for Node processes that talk to a GatewayCluster, and for handler modules. */
export { GatewayClient, type GatewayClientOptions, type SkipReason } from './client/gateway-client.js';
export { GatewayCommandError, GatewayTimeoutError } from './client/gateway-errors.js';
export { ErrorCode } from './wire/types.js';
export type { ClientSessions, GatewayApi, MessageData, Session } from './client/gateway-api.js';
export type { EventContext, Handler, WebSocketRequest, WorkerInfo } from './worker/handler.js';
export { RefuseConnection } from './worker/refuse-connection.js';
export { decodeClientId, encodeClientId, type ClientIdParts } from './wire/client-id.js';
