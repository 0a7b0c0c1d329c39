import type { CloseFrame, RefusalReason } from './disconnects.js';

/**
 * What the gateway needs from a client connection, whatever its protocol. Named apart from WebSocket's own methods
 * (send, ping, close), so that a WebSocket can be its own transport (websocket-listener.ts).
 */
export interface ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  sendMessage(data: Buffer, binary: boolean): void;
  /** Bytes accepted by sendMessage() that the client has not taken yet (ours and the socket's). */
  readonly bufferedBytes: number;
  /** A heartbeat: `pingData` as a message, or a protocol-level ping where the protocol has one. */
  heartbeat(pingData: Buffer | undefined): void;
  /** Answers a protocol-level ping from the client, where the protocol has them (WebSocket). */
  pong(data: Buffer): void;
  /** Flushes what is queued, then closes: with `frame` where the protocol has close frames (WebSocket). */
  closeWith(frame: CloseFrame): void;
  /** Drops the connection at once. */
  destroy(): void;
  /** Stops and restarts reading from the client: how a busy worker slows its clients down. */
  pause(): void;
  resume(): void;
}

/**
 * What the transport of a client that has gone becomes, so that the connection's objects (socket, WebSocket,
 * buffers) can be collected while its Close event waits for a worker.
 */
export const CLOSED_TRANSPORT: ClientTransport = {
  remoteAddress: '',
  remotePort: 0,
  bufferedBytes: 0,
  sendMessage() {},
  heartbeat() {},
  pong() {},
  closeWith() {},
  destroy() {},
  pause() {},
  resume() {},
};

export interface UpgradeRequest {
  url: string;
  headers: Record<string, string>;
}

/** An upgrade waiting for a worker's verdict: status 0 completes it, any other is the HTTP status it is refused with. */
export interface UpgradeCheck {
  client: ClientHandle;
  verdict: Promise<{ status: number; reason?: string }>;
  /** The connection closed while the upgrade waited: the client is closed, and the verdict no longer waited for. */
  abandon(): void;
}

/** What a protocol listener reports to the gateway. */
export interface ClientSink {
  /** False when a new connection must be refused (the connection limit, a stopping gateway). */
  canAccept(): boolean;
  opened(transport: ClientTransport, upgrade?: UpgradeRequest): ClientHandle;
  /**
   * Undefined when upgrades need no verdict; otherwise the client is opened on `pending` (which holds what is
   * sent to it) and the listener completes the upgrade with upgraded(), or answers with the refusal's status.
   */
  checkUpgrade(pending: ClientTransport, upgrade: UpgradeRequest): UpgradeCheck | undefined;
  upgraded(handle: ClientHandle, transport: ClientTransport): void;
  message(handle: ClientHandle, data: Buffer, binary: boolean): void;
  /** Traffic that is not a message but proves the client alive (a pong). */
  alive(handle: ClientHandle): void;
  /** A protocol-level ping from the client, to be answered (Client.answerPing). */
  pinged(handle: ClientHandle, data: Buffer): void;
  closed(handle: ClientHandle): void;
  /** An upgrade refused before it became a client. */
  rejectedUpgrade(reason: RefusalReason, remote: string): void;
  /** A protocol violation on one connection: logged and counted by the gateway. */
  rejected(reason: string, remote: string): void;
}

export interface ClientHandle {
  readonly id: string;
}
