import type { IncomingHttpHeaders, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientSink, ClientTransport } from '../client-transport.js';
import { coalesceWrites } from './write-coalescer.js';

class WebSocketTransport implements ClientTransport {
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  send(data: Buffer, binary: boolean): void {
    coalesceWrites(this.socket);
    this.ws.send(data, { binary });
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  ping(pingData: Buffer | undefined): void {
    if (pingData) this.ws.send(pingData, { binary: false });
    else this.ws.ping();
  }

  close(code = 1000, reason?: string): void {
    this.ws.close(code, reason);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/** Accepts WebSocket upgrades on the gateway's HTTP server. */
export interface WebSocketListenerOptions {
  maxPayload: number;
  /** Origin header values accepted; empty: any. */
  allowedOrigins: string[];
}

export function attachWebSocketListener(server: Server, sink: ClientSink, options: WebSocketListenerOptions): WebSocketServer {
  const { maxPayload, allowedOrigins } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    if (allowedOrigins.length > 0 && !allowedOrigins.includes(req.headers.origin ?? '')) {
      sink.rejectedUpgrade('origin', `${req.socket.remoteAddress}:${req.socket.remotePort} (Origin: ${req.headers.origin ?? 'none'})`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!sink.canAccept()) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const remoteAddress = req.socket.remoteAddress ?? '';
    const remotePort = req.socket.remotePort ?? 0;
    const upgrade = { url: req.url ?? '/', headers: flattenHeaders(req.headers) };
    wss.handleUpgrade(req, socket, head, (ws) => {
      const handle = sink.opened(new WebSocketTransport(ws, socket, remoteAddress, remotePort), upgrade);
      ws.on('message', (data: Buffer, isBinary: boolean) => sink.message(handle, data, isBinary));
      ws.on('pong', () => sink.alive(handle));
      ws.on('error', (error) => sink.rejected(error.message, `${remoteAddress}:${remotePort}`));
      ws.on('close', () => sink.closed(handle));
    });
  });
  return wss;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
