/** What the gateway needs from a client connection, whatever its protocol. */
export interface ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  send(data: Buffer, binary: boolean): void;
  /** Bytes accepted by send() that the client has not taken yet (ours and the socket's). */
  readonly bufferedBytes: number;
  /** A heartbeat: `pingData` as a message, or a protocol-level ping where the protocol has one. */
  ping(pingData: Buffer | undefined): void;
  /** Flushes what is queued, then closes; `code` is a WebSocket close code where it applies. */
  close(code?: number, reason?: string): void;
  /** Drops the connection at once. */
  destroy(): void;
}

export interface UpgradeRequest {
  url: string;
  headers: Record<string, string>;
}

/** What a protocol listener reports to the gateway. */
export interface ClientSink {
  /** False when a new connection must be refused (the connection limit, a stopping gateway). */
  canAccept(): boolean;
  opened(transport: ClientTransport, upgrade?: UpgradeRequest): ClientHandle;
  message(handle: ClientHandle, data: Buffer, binary: boolean): void;
  /** Traffic that is not a message but proves the client alive (a pong). */
  alive(handle: ClientHandle): void;
  closed(handle: ClientHandle): void;
  /** An upgrade refused before it became a client (`reason`: a metric label, e.g. origin). */
  rejectedUpgrade(reason: string, remote: string): void;
  /** A protocol violation on one connection: logged and counted by the gateway. */
  rejected(reason: string, remote: string): void;
}

export interface ClientHandle {
  readonly id: string;
}
