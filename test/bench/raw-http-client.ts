/**
 * A keep-alive HTTP/1.1 client for the API bench, as cheap as wrk is: one request at a time per connection, its
 * bytes made once per body and reused, the answer read only for its status, length and body. node:http's client cost
 * this process more CPU per /v1/batch request than the API server spends on it, CPU the servers then lacked on this
 * 2-core machine. Only what the API server sends is understood: an answer with a content-length, never chunked.
 */
import { connect, type Socket } from 'node:net';

export interface Answer {
  status: number;
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

export class RawHttpConnection {
  private readonly socket: Socket;
  private received: Buffer[] = [];
  private receivedBytes = 0;
  private waiting: { resolve(answer: Answer): void; reject(error: Error): void } | undefined;
  private failure: Error | undefined;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  /** The request's answer; `request` is a whole request (see requestBytes). One at a time. */
  send(request: Buffer): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new Error('a request is still waiting for its answer'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    const data = this.received.length === 1 ? chunk : Buffer.concat(this.received, this.receivedBytes);
    const headEnd = data.indexOf(HEAD_END);
    if (headEnd === -1) return this.keep(data);
    const head = data.toString('latin1', 0, headEnd);
    const length = CONTENT_LENGTH.exec(head);
    const status = Number(head.slice(9, 12));
    if (!length || !head.startsWith('HTTP/1.1 ') || !Number.isInteger(status)) return this.fail(new Error(`not an answer this client reads: ${JSON.stringify(head.slice(0, 200))}`));
    const end = headEnd + HEAD_END.length + Number(length[1]);
    if (data.length < end) return this.keep(data);
    if (data.length > end) return this.fail(new Error('bytes after an answer no request asked for'));
    this.keep(undefined);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return this.fail(new Error('an answer no request asked for'));
    waiting.resolve({ status, body: data.toString('utf8', headEnd + HEAD_END.length, end) });
  }

  private keep(data: Buffer | undefined): void {
    this.received = data ? [data] : [];
    this.receivedBytes = data?.length ?? 0;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.reject(error);
    this.waiting = undefined;
    this.socket.destroy();
  }
}

/** A POST of `body` (JSON) to `path`, with these extra headers, as bytes to send again and again. */
export function requestBytes(host: string, path: string, headers: Record<string, string>, body: string): Buffer {
  const content = Buffer.from(body);
  const lines = [`POST ${path} HTTP/1.1`, `host: ${host}`, 'content-type: application/json', `content-length: ${content.length}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), content]);
}
