/** Public API for Node processes that talk to a GatewayCluster, and for handler modules. */
export { GatewayClient, type GatewayClientOptions, type SkipReason } from './gateway-api/gateway-client.js';
export { GatewayCommandError, GatewayTimeoutError } from './gateway-api/gateway-errors.js';
export { ErrorCode } from './wire/types.js';
export type { ClientSessions, GatewayApi, MessageData, Session } from './gateway-api/gateway-api.js';
export type { EventContext, Handler, WebSocketRequest, WorkerInfo } from './worker/handler.js';
export { RefuseConnection } from './worker/refuse-connection.js';
export { decodeClientId, encodeClientId, type ClientIdParts } from './wire/client-id.js';
