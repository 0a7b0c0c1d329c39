import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder, FrameError, encodeFrame } from '../../wire/frame-codec.js';
import type { ClientHandle, ClientSink, ClientTransport } from '../client-transport.js';
import { coalesceWrites } from './write-coalescer.js';

export type TcpProtocol = 'text' | 'frame';

const NEWLINE = 0x0a;

/** Raw TCP clients: newline-terminated text lines, or Workerman-style frames (4-byte length counting itself). */
class TcpTransport implements ClientTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(
    private readonly socket: Socket,
    private readonly protocol: TcpProtocol,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
  }

  send(data: Buffer): void {
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

  ping(pingData: Buffer | undefined): void {
    if (pingData) this.send(pingData);
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Splits a byte stream into messages, or throws on a message over the limit. */
interface MessageSplitter {
  push(chunk: Buffer): Buffer[];
}

class LineSplitter implements MessageSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      let line = chunk.subarray(start, newline);
      if (this.partialBytes > 0) {
        line = Buffer.concat([...this.partial, line]);
        this.partial = [];
        this.partialBytes = 0;
      }
      if (line.length > this.maxPayload) throw new FrameError(`line of ${line.length} bytes exceeds the maximum of ${this.maxPayload}`);
      lines.push(line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > this.maxPayload) {
        throw new FrameError(`line longer than the maximum of ${this.maxPayload} bytes`);
      }
    }
    return lines;
  }
}

export function createTcpListener(protocol: TcpProtocol, sink: ClientSink, maxPayload: number): Server {
  return createServer((socket) => {
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
  });
}
