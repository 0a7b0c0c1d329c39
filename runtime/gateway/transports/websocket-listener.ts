import { STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ClientHandle, ClientSink, ClientTransport } from '../client-transport.js';
import { PendingUpgradeTransport } from './pending-upgrade-transport.js';
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

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
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
      refuse(socket, 403, '');
      return;
    }
    if (!sink.canAccept()) {
      refuse(socket, 503, '');
      return;
    }
    const remoteAddress = req.socket.remoteAddress ?? '';
    const remotePort = req.socket.remotePort ?? 0;
    const upgrade = { url: req.url ?? '/', headers: flattenHeaders(req.headers) };
    const complete = (opened: (transport: WebSocketTransport) => ClientHandle, early: Buffer) =>
      wss.handleUpgrade(req, socket, early, (ws) => {
        const handle = opened(new WebSocketTransport(ws, socket, remoteAddress, remotePort));
        ws.on('message', (data: Buffer, isBinary: boolean) => sink.message(handle, data, isBinary));
        ws.on('pong', () => sink.alive(handle));
        ws.on('error', (error) => sink.rejected(error.message, `${remoteAddress}:${remotePort}`));
        ws.on('close', () => sink.closed(handle));
      });

    const check = sink.checkUpgrade(new PendingUpgradeTransport(remoteAddress, remotePort), upgrade);
    if (!check) {
      complete((transport) => sink.opened(transport, upgrade), head);
      return;
    }
    // Read while the verdict is pending, or a client that gives up would never be noticed; anything it sends
    // early is kept for the WebSocket (a client that sends much before the upgrade is answered is dropped).
    const early = [head];
    let earlyBytes = head.length;
    const hold = (chunk: Buffer) => {
      early.push(chunk);
      earlyBytes += chunk.length;
      if (earlyBytes > maxPayload) socket.destroy();
    };
    const abandoned = () => {
      socket.off('data', hold).off('end', abandoned).off('close', abandoned);
      socket.destroy();
      sink.abandoned(check.client);
    };
    socket.on('data', hold).once('end', abandoned).once('close', abandoned);
    void check.verdict.then(({ status, reason }) => {
      if (socket.destroyed) return;
      // The WebSocket takes over reading in this same tick, so no chunk can fall between the two listeners.
      socket.off('data', hold).off('end', abandoned).off('close', abandoned);
      if (status !== 0) return refuse(socket, status, reason ?? '');
      complete((transport) => {
        sink.upgraded(check.client, transport);
        return check.client;
      }, Buffer.concat(early, earlyBytes));
    });
  });
  return wss;
}

/** Answers an upgrade request with an HTTP error status and `reason` as a plain-text body. */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = Buffer.from(reason);
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.end(body);
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
