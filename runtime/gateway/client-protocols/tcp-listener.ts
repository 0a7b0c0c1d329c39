import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { readRemoteEnd } from '../../net/remote-end.js';
import { FrameDecoder, encodeFrame } from '../../wire/frame-codec.js';
import type { ClientHandle, ClientSink, ClientTransport } from '../client-transport.js';
import { LineSplitter, type MessageSplitter } from './line-splitter.js';
import { coalesceWrites } from './write-coalescer.js';

export type TcpProtocol = 'text' | 'frame';

/** Raw TCP clients: newline-terminated text lines, or Workerman-style frames (4-byte length counting itself). */
class TcpTransport implements ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly socket: Socket,
    private readonly protocol: TcpProtocol,
  ) {
    ({ address: this.remoteAddress, port: this.remotePort } = readRemoteEnd(socket));
  }

  sendMessage(data: Buffer): void {
    if (this.socket.destroyed) return;
    coalesceWrites(this.socket);
    if (this.protocol === 'frame') {
      this.socket.write(encodeFrame(data, true));
    } else {
      this.socket.write(data);
      this.socket.write('\n');
    }
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  heartbeat(pingData: Buffer | undefined): void {
    if (pingData) this.sendMessage(pingData);
  }

  /** Text and frame have no pings. */
  pong(): void {}

  /** Text and frame have no close frame: the connection is ended once what is queued is written. */
  closeWith(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

/**
 * Splits a byte stream into messages, or throws on a message over the limit. With `tls` (certificate and key) the
 * server is a tls.Server: each client is handled once its handshake is done ('secureConnection').
 */
export function createTcpListener(protocol: TcpProtocol, sink: ClientSink, maxPayload: number): Server;
export function createTcpListener(protocol: TcpProtocol, sink: ClientSink, maxPayload: number, tls: TlsOptions): TlsServer;
export function createTcpListener(protocol: TcpProtocol, sink: ClientSink, maxPayload: number, tls?: TlsOptions): Server {
  const onSocket = (socket: Socket) => acceptClient(socket, protocol, sink, maxPayload);
  return tls ? createTlsServer(tls, onSocket) : createServer(onSocket);
}

function acceptClient(socket: Socket, protocol: TcpProtocol, sink: ClientSink, maxPayload: number): void {
  if (!sink.canAccept()) {
    socket.destroy();
    return;
  }
  socket.setNoDelay(true);
  const splitter: MessageSplitter = protocol === 'frame' ? new FrameDecoder(maxPayload, true) : new LineSplitter(maxPayload);
  const handle: ClientHandle = sink.opened(new TcpTransport(socket, protocol));
  socket.on('data', (chunk: Buffer) => {
    let messages: Buffer[];
    try {
      messages = splitter.push(chunk);
    } catch (error) {
      sink.rejected((error as Error).message, `${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
      return;
    }
    for (const message of messages) sink.message(handle, message, protocol === 'frame');
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sink.closed(handle));
}
