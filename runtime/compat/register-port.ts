/**
 * GatewayWorker's Register protocol for GatewayClient: newline-delimited JSON. `{"event":"worker_connect",
 * "secret_key":...}` is answered with `{"event":"broadcast_addresses","addresses":["ip:port",...]}`, the gateways'
 * internal addresses (which answer GatewayProtocol, see gateway-client-port.ts), and again whenever they change, as
 * GatewayWorker's Register does; `{"event":"ping"}` is taken. Nothing else: `gateway_connect` (a gateway joining)
 * and anything unknown close the connection, logged and counted.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { listen } from '../net/listen.js';
import type { Logger } from '../observability/log.js';
import { compatMetrics, secretMatcher, type CompatMetrics, type RefusalReason } from './compat-metrics.js';

export interface RegisterPortOptions {
  host: string;
  port: number;
  secret: Buffer;
  /** A connection that sends no request by then is closed (GatewayWorker's Register waits 10 s). */
  handshakeTimeoutMs: number;
  log: Logger;
  registry: Registry;
  /** The gateways' internal addresses now. */
  addresses(): string[];
}

/** A request line is a few dozen bytes; a longer one is not GatewayClient's. */
const MAX_LINE_BYTES = 64 * 1024;

export class GatewayWorkerRegisterPort {
  private server: Server | undefined;
  private readonly subscribers = new Set<Socket>();
  private readonly metrics: CompatMetrics;
  private readonly secretMatches: (given: string) => boolean;

  constructor(private readonly options: RegisterPortOptions) {
    this.metrics = compatMetrics(options.registry);
    this.secretMatches = secretMatcher(options.secret);
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    await listen(this.server, this.options.port, this.options.host);
    this.options.log.info('GatewayWorker register protocol ready', { host: this.options.host, port: this.options.port });
  }

  async stop(): Promise<void> {
    for (const socket of this.subscribers) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The gateways changed: every connection that asked for them gets the new list. */
  gatewaysChanged(): void {
    const line = this.addressesLine();
    for (const socket of this.subscribers) socket.write(line);
  }

  private addressesLine(): string {
    return `${JSON.stringify({ event: 'broadcast_addresses', addresses: this.options.addresses() })}\n`;
  }

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let buffered = '';
    let closed = false;
    const refuse = (reason: RefusalReason, message: string) => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      this.metrics.refused.inc({ reason });
      this.options.log.warn('GatewayWorker register connection refused', { remote, reason, error: message });
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('timeout', 'no request in time'), this.options.handshakeTimeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0 && !closed; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        this.request(socket, line, refuse);
        if (this.subscribers.has(socket)) clearTimeout(timer);
      }
      if (Buffer.byteLength(buffered) > MAX_LINE_BYTES) refuse('too-large', `a request line past ${MAX_LINE_BYTES} bytes`);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      this.subscribers.delete(socket);
    });
  }

  private request(socket: Socket, line: string, refuse: (reason: RefusalReason, message: string) => void): void {
    let request: { event?: unknown; secret_key?: unknown } | null;
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      return refuse('header', 'a request that is not JSON');
    }
    const event = typeof request === 'object' && request !== null ? request.event : undefined;
    // A BusinessWorker pings to keep its connection; only one that has authenticated may stay.
    if (event === 'ping' && this.subscribers.has(socket)) return;
    if (event !== 'worker_connect') return refuse('command', `event ${JSON.stringify(event ?? null)} is not GatewayClient's worker_connect`);
    if (typeof request!.secret_key !== 'string' || !this.secretMatches(request!.secret_key)) return refuse('secret', 'wrong secret key (Gateway::$secretKey)');
    this.metrics.commands.inc({ command: 'worker_connect' });
    this.subscribers.add(socket);
    socket.write(this.addressesLine());
  }
}
