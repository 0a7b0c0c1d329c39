import type { GatewayApi, MessageData, Session } from '../gateway-api/gateway-api.js';
import type { Logger } from '../observability/log.js';

/** The HTTP upgrade request of a WebSocket client, as `onWebSocketConnect` sees it. */
export interface WebSocketRequest {
  url: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The URL's query parameters (the last of a repeated one), as GatewayWorker's $_GET. */
  query: Record<string, string>;
  /** The Cookie header's cookies, values percent-decoded, as GatewayWorker's $_COOKIE. */
  cookies: Record<string, string>;
}

/** What a handler callback knows about the client whose event it handles. */
export interface EventContext {
  clientId: string;
  /** The client's session. Mutate it freely: changes are saved to the gateway after the callback returns. */
  session: Session;
  gateway: GatewayApi;
  remoteAddress: string;
  remotePort: number;
  /** Stable id of this client event; the same on a redelivery. */
  messageId: string;
  /** True when this event was already sent to a worker that died before finishing it: skip it if `messageId` was seen. */
  redelivery: boolean;
  sendToCurrentClient(message: MessageData): Promise<void>;
  closeCurrentClient(message?: MessageData): Promise<void>;
  destroyCurrentClient(): Promise<void>;
}

export interface WorkerInfo {
  name: string;
  /**
   * This worker's number among the cluster's workers (GatewayWorker's $worker->id): `--worker-index`, or the number
   * its name ends in (a StatefulSet pod's ordinal: chat-worker-2 is 2), else 0. `if (worker.index === 0)` starts a
   * timer in one worker only; during a rollout or a reload two workers can have an index for a moment.
   */
  index: number;
  gateway: GatewayApi;
  log: Logger;
}

/**
 * A handler module exports any of these, either as named exports or as its default export.
 * Messages arrive as strings from text frames and text protocols, and as Buffers from binary frames.
 */
export interface Handler {
  onWorkerStart?(worker: WorkerInfo): void | Promise<void>;
  onConnect?(clientId: string, ctx: EventContext): void | Promise<void>;
  onWebSocketConnect?(clientId: string, request: WebSocketRequest, ctx: EventContext): void | Promise<void>;
  onMessage?(clientId: string, message: string | Buffer, ctx: EventContext): void | Promise<void>;
  onClose?(clientId: string, ctx: EventContext): void | Promise<void>;
  onWorkerStop?(worker: WorkerInfo): void | Promise<void>;
}
