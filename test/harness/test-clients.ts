import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { FrameDecoder, encodeFrame } from '../../runtime/wire/frame-codec.js';
import { waitFor, withTimeout } from './wait.js';

/** What every test client offers: send, and wait for a received message matching a predicate. */
export abstract class TestClient {
  readonly inbox: string[] = [];
  closed = false;
  closeCode: number | undefined;

  abstract send(message: string): void;
  abstract close(): void;

  /** The first message in the inbox matching `predicate`, removed from it, waiting up to `timeoutMs`. */
  async next(predicate: (message: string) => boolean = () => true, timeoutMs = 5000): Promise<string> {
    return waitFor(`a message matching ${predicate.toString().slice(0, 80)}`, () => {
      const index = this.inbox.findIndex(predicate);
      return index < 0 ? undefined : this.inbox.splice(index, 1)[0];
    }, timeoutMs, 5);
  }

  /** The next message parsed as JSON with `type === type`. */
  async nextJson<T = Record<string, unknown>>(type: string, timeoutMs = 5000): Promise<T> {
    const text = await this.next((m) => m.startsWith('{') && (JSON.parse(m) as { type?: string }).type === type, timeoutMs);
    return JSON.parse(text) as T;
  }

  /** Sends a JSON request to the fixture handler and waits for its `reply` with the same id. */
  async request<T = unknown>(op: string, args: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
    const id = Math.random().toString(36).slice(2);
    this.send(JSON.stringify({ op, id, ...args }));
    const text = await this.next((m) => m.includes(`"id":"${id}"`), timeoutMs);
    const reply = JSON.parse(text) as { error?: string; result: T };
    if (reply.error) throw new Error(reply.error);
    return reply.result;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await waitFor('the client connection to close', () => this.closed, timeoutMs);
  }
}

export class WsTestClient extends TestClient {
  constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (data: Buffer) => this.inbox.push(data.toString('utf8')));
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<WsTestClient> {
    const ws = new WebSocket(url, options);
    const client = new WsTestClient(ws);
    await withTimeout(`WebSocket open to ${url}`, new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    }));
    return client;
  }

  send(message: string | Buffer): void {
    this.ws.send(message);
  }

  close(): void {
    this.ws.close();
  }
}

/** Raw TCP: newline text, or Workerman frames (4-byte big-endian length that counts itself). */
export class TcpTestClient extends TestClient {
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024, true);
  private partial = '';

  constructor(
    readonly socket: Socket,
    readonly protocol: 'text' | 'frame',
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static async open(host: string, port: number, protocol: 'text' | 'frame'): Promise<TcpTestClient> {
    const socket = connect({ host, port });
    await withTimeout(`TCP connect to ${host}:${port}`, new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }));
    return new TcpTestClient(socket, protocol);
  }

  send(message: string): void {
    this.socket.write(this.protocol === 'frame' ? encodeFrame(Buffer.from(message), true) : message + '\n');
  }

  close(): void {
    this.socket.end();
  }

  private receive(chunk: Buffer): void {
    if (this.protocol === 'frame') {
      for (const frame of this.decoder.push(chunk)) this.inbox.push(frame.toString('utf8'));
      return;
    }
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    this.inbox.push(...lines);
  }
}
