import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { ClientHandle, ClientSink, ClientTransport, UpgradeCheck } from '../client-transport.js';
import { UPGRADE_REFUSAL_STATUS, type CloseFrame } from '../disconnects.js';
import { readRemoteEnd, type RemoteEnd } from '../../net/remote-end.js';
import { PendingUpgradeTransport } from './pending-upgrade-transport.js';
import { OWN_FRAME_MAX_PAYLOAD, dataFrame } from './websocket-frame.js';
import { coalesceWrites } from './write-coalescer.js';

/** The part of ws's Receiver (the parser of what a client sends) that releaseReadQueue() reaches into. */
interface ReceiverQueue {
  _buffers: Buffer[];
}

/**
 * ws's Receiver queues incoming chunks in an array which, once a chunk has passed through it, keeps room for 17 of
 * them (152 bytes) for the life of the connection. An idle client's only traffic is its pong to each heartbeat, so
 * once a pong is read an empty queue is swapped for a new array, which takes no room until the next chunk. Not after
 * messages: a busy client would get a new array for each. ws's own field, checked by websocket-listener.test.ts.
 */
export function releaseReadQueue(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver: ReceiverQueue | null })._receiver;
  if (receiver && Array.isArray(receiver._buffers) && receiver._buffers.length === 0) receiver._buffers = [];
}

/**
 * A server's empty ping frame (FIN, opcode 9, unmasked, no payload), the same two bytes for every client. ws's ping()
 * builds them anew for each, through its Sender (a corked write of header and empty payload): some 650 bytes of
 * garbage per client and heartbeat, against some 270 for this one write; at 18,000 clients, 7 MiB less every
 * heartbeat. Written as a whole frame, it cannot split one of ws's (its Sender writes each frame at once; it queues
 * only while compressing, which the gateway does not, or reading a Blob, which it never sends).
 */
const EMPTY_PING = Buffer.from([0x89, 0x00]);

/**
 * A client's WebSocket, which is also its transport (one object per connection rather than two), and takes its own
 * events in emit(), without listeners. Listeners would cost, per connection, a closure each (or a pointer back for
 * shared ones) and a dictionary of them on the WebSocket, which grows from 160 to 256 bytes at the fourth event
 * (message, pong, error and close). Its sink is its listener's, on a subclass made per listener (attachWebSocketListener), not a
 * field of each. ClientTransport's names differ from WebSocket's own (send, ping, close), which ws calls itself.
 */
abstract class ClientWebSocket extends WebSocket implements ClientTransport {
  /** Set by serve() as soon as the upgrade completes, before the WebSocket can emit anything of the client's. */
  handle: ClientHandle | undefined;
  socket: Duplex | undefined;
  remoteAddress = '';
  remotePort = 0;

  abstract get sink(): ClientSink;

  // The events of a server-side WebSocket carry at most two arguments.
  override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
    const handle = this.handle;
    if (handle === undefined) return super.emit(event, a, b);
    switch (event) {
      case 'message':
        this.sink.message(handle, a as Buffer, b as boolean);
        return true;
      case 'pong':
        this.sink.alive(handle);
        releaseReadQueue(this);
        return true;
      case 'ping':
        this.sink.pinged(handle, a as Buffer);
        return true;
      case 'error':
        this.sink.rejected((a as Error).message, `${this.remoteAddress}:${this.remotePort}`);
        return true;
      case 'close':
        this.sink.closed(handle);
        return true;
      default:
        return super.emit(event, a, b);
    }
  }

  /**
   * A small message goes out as one frame of our own (websocket-frame.ts), written as one chunk: a client's only
   * message in a turn is then one plain write, not a writev. Safe beside ws's own frames for the reason EMPTY_PING is.
   * Not open (closing, closed), ws's send() decides what happens to it.
   */
  sendMessage(data: Buffer, binary: boolean): void {
    coalesceWrites(this.socket!);
    if (data.length <= OWN_FRAME_MAX_PAYLOAD && this.readyState === WebSocket.OPEN) this.socket!.write(dataFrame(data, binary));
    else this.send(data, { binary });
  }

  get bufferedBytes(): number {
    return this.bufferedAmount;
  }

  heartbeat(pingData: Buffer | undefined): void {
    if (pingData) this.send(pingData, { binary: false });
    else if (this.readyState === WebSocket.OPEN) this.socket!.write(EMPTY_PING);
  }

  closeWith(frame: CloseFrame): void {
    this.close(frame.code, frame.reason);
  }

  destroy(): void {
    this.terminate();
  }

  // pong(), pause() and resume() are WebSocket's own.
}

/** Accepts WebSocket upgrades on the gateway's HTTP server. */
export interface WebSocketListenerOptions {
  maxPayload: number;
  /** Origin header values accepted; empty: any. */
  allowedOrigins: string[];
}

export function attachWebSocketListener(server: Server, sink: ClientSink, options: WebSocketListenerOptions): WebSocketServer {
  const { maxPayload, allowedOrigins } = options;
  const ListenerWebSocket = class extends ClientWebSocket {
    get sink(): ClientSink {
      return sink;
    }
  };
  // autoPong off: the client's pings are answered by the gateway (Client.answerPing), without ws's per-socket state.
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false, autoPong: false, WebSocket: ListenerWebSocket });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (allowedOrigins.length > 0 && !allowedOrigins.includes(req.headers.origin ?? '')) {
      sink.rejectedUpgrade('origin', `${req.socket.remoteAddress}:${req.socket.remotePort} (Origin: ${req.headers.origin ?? 'none'})`);
      refuse(socket, UPGRADE_REFUSAL_STATUS.origin, '');
      return;
    }
    if (!sink.canAccept()) {
      refuse(socket, UPGRADE_REFUSAL_STATUS.unavailable, '');
      return;
    }
    const upgrade = { url: req.url ?? '/', headers: flattenHeaders(req.headers) };
    const remote = readRemoteEnd(req.socket);
    const check = sink.checkUpgrade(new PendingUpgradeTransport(remote.address, remote.port), upgrade);
    if (!check) {
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws as ClientWebSocket, socket, remote, (transport) => sink.opened(transport, upgrade)));
      return;
    }
    awaitVerdict(check, socket, head, maxPayload, (early) =>
      wss.handleUpgrade(req, socket, early, (ws) =>
        serve(ws as ClientWebSocket, socket, remote, (transport) => {
          sink.upgraded(check.client, transport);
          return check.client;
        }),
      ),
    );
  });
  return wss;
}

/**
 * Wires an upgraded WebSocket to the gateway (its events go to its sink from now on: see ClientWebSocket). A function
 * of its own so that nothing living as long as the connection holds the upgrade request (a few KiB per idle one).
 */
function serve(ws: ClientWebSocket, socket: Duplex, remote: RemoteEnd, opened: (transport: ClientTransport) => ClientHandle): void {
  ws.socket = socket;
  ws.remoteAddress = remote.address;
  ws.remotePort = remote.port;
  ws.handle = opened(ws);
}

/**
 * Holds the upgrade until the verdict: refused with its status, or completed with `upgrade(early)`. The socket is
 * read meanwhile, or a client that gives up would never be noticed; what it sends early is kept for the
 * WebSocket (a client sending more than a message's worth before the answer is dropped).
 */
function awaitVerdict(check: UpgradeCheck, socket: Duplex, head: Buffer, maxPayload: number, upgrade: (early: Buffer) => void): void {
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
    check.abandon();
  };
  socket.on('data', hold).once('end', abandoned).once('close', abandoned);
  void check.verdict.then(({ status, reason }) => {
    if (socket.destroyed) return;
    // The WebSocket takes over reading in this same tick, so no chunk can fall between the two listeners.
    socket.off('data', hold).off('end', abandoned).off('close', abandoned);
    if (status !== 0) return refuse(socket, status, reason ?? '');
    upgrade(Buffer.concat(early, earlyBytes));
  });
}

/**
 * Answers an upgrade request with an HTTP error status and `reason` as a plain-text body, then closes the socket
 * once the answer is written: a client that never closes its side must not hold the connection (nor a stop).
 */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = Buffer.from(reason);
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`,
  );
  socket.end(body, () => socket.destroy());
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
