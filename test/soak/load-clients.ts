import WebSocket from 'ws';
import type { Prng } from './prng.js';

/** How a client connection ended, as the soak attributes it. */
export type ConnectionEnd = 'open' | 'client-close' | 'gateway-sigkill' | 'gateway-sigterm' | 'slow-1008' | `close-${number}`;

export interface Connection {
  id: number;
  gateway: number;
  end: ConnectionEnd;
}

export type GatewayFault = 'sigkill' | 'sigterm' | undefined;

export interface LoadOptions {
  urls: string[];
  clients: number;
  /** Messages per second each client sends while connected. */
  rate: number;
  rng: Prng;
  /**
   * A client closes its connection by itself after [min, max] seconds and reconnects to the next gateway, as
   * real clients come and go; this also spreads the clients over the gateways again after a gateway kill.
   */
  lifetimeS?: [number, number];
  /** What the chaos is doing to gateway `index` right now, to tell why a connection to it ended. */
  gatewayFault(index: number): GatewayFault;
}

const TICK_MS = 20;
const OPEN_BRACE = 0x7b;

/** Why a connection closed with `code` while its gateway was in `fault`. */
function classifyEnd(code: number, fault: GatewayFault): ConnectionEnd {
  if (fault === 'sigkill' && code === 1006) return 'gateway-sigkill';
  if (fault === 'sigterm' && (code === 1012 || code === 1006)) return 'gateway-sigterm';
  if (code === 1008) return 'slow-1008';
  return `close-${code}`;
}

/**
 * One load client: a stable key (`k17`) that survives its reconnects, sending `{c, n}` with n counting up
 * across connections. It remembers which connection each n was written on and counts the echoes.
 */
export class LoadClient {
  /** Index n: the connection id message n was written on (-1: the write failed, so it was never sent). */
  readonly sentOn: number[] = [];
  /** Index n: when message n was written (ms since the epoch). */
  readonly sentAt: number[] = [];
  /** Index n: how many echoes of message n came back. */
  readonly echoes: number[] = [];
  /** Written on the current connection and not echoed yet. */
  readonly pending = new Set<number>();
  lastN = 0;
  highestEcho = 0;
  outOfOrder = 0;
  duplicateEchoes = 0;
  foreignEchoes = 0;
  nextAt = 0;
  private ws: WebSocket | undefined;
  /** The latest WebSocket, open or still connecting. */
  private latest: WebSocket | undefined;
  private connection: Connection | undefined;
  private nextGateway: number;
  private attempt = 0;
  private downSince: number | undefined;

  constructor(
    readonly key: string,
    index: number,
    private readonly pool: LoadPool,
  ) {
    this.nextGateway = index % pool.options.urls.length;
  }

  get open(): boolean {
    return this.connection !== undefined && this.ws?.readyState === WebSocket.OPEN;
  }

  connect(): Promise<void> {
    const gateway = this.nextGateway;
    this.nextGateway = (gateway + 1) % this.pool.options.urls.length;
    const ws = new WebSocket(this.pool.options.urls[gateway]!, { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.latest = ws;
    let connection: Connection | undefined;
    let leaving = false;
    let lifetime: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      ws.on('open', () => {
        const [min, max] = this.pool.options.lifetimeS ?? [0, 0];
        if (max > 0) {
          lifetime = setTimeout(() => {
            if (!this.pool.sending) return; // no churn once the soak is settling
            leaving = true;
            ws.close(1000, 'leaving');
          }, this.pool.options.rng.between(min, max) * 1000);
        }
        connection = this.pool.newConnection(gateway);
        this.connection = connection;
        this.ws = ws;
        this.attempt = 0;
        if (this.downSince !== undefined) this.pool.reconnectMs.push(Date.now() - this.downSince);
        this.downSince = undefined;
        resolve();
      });
      ws.on('message', (data: Buffer) => this.receive(data));
      ws.on('error', () => {});
      ws.on('close', (code: number) => {
        resolve();
        clearTimeout(lifetime);
        if (connection) {
          const left = leaving && code === 1000;
          // Connections still up when the soak ends stay 'open': what they left unechoed was given up.
          if (!this.pool.closing) connection.end = left ? 'client-close' : classifyEnd(code, this.pool.options.gatewayFault(gateway));
          this.connection = undefined;
          this.ws = undefined;
          this.pending.clear();
          // Only a connection the client did not choose to leave counts for the reconnect times.
          this.downSince = left ? undefined : Date.now();
        }
        if (!this.pool.closing) this.reconnectLater();
      });
    });
  }

  send(): void {
    const ws = this.ws!;
    const n = ++this.lastN;
    this.sentOn[n] = this.connection!.id;
    this.sentAt[n] = Date.now();
    this.pending.add(n);
    ws.send(`{"c":"${this.key}","n":${n}}`, (error) => {
      if (!error) return;
      this.sentOn[n] = -1;
      this.pending.delete(n);
    });
  }

  close(): void {
    this.latest?.terminate();
  }

  /** Jittered exponential backoff (100 ms doubling up to 2 s), to the next gateway in turn. */
  private reconnectLater(): void {
    const base = Math.min(2000, 100 * 2 ** this.attempt++);
    setTimeout(() => {
      if (!this.pool.closing) void this.connect();
    }, base * this.pool.options.rng.between(0.5, 1.5));
  }

  private receive(data: Buffer): void {
    if (data[0] !== OPEN_BRACE) return; // not an echo
    const echo = JSON.parse(data.toString('utf8')) as { c: string; n: number };
    if (echo.c !== this.key) {
      this.foreignEchoes++;
      return;
    }
    const seen = this.echoes[echo.n] ?? 0;
    this.echoes[echo.n] = seen + 1;
    if (seen > 0) {
      this.duplicateEchoes++;
      return;
    }
    this.pending.delete(echo.n);
    if (echo.n < this.highestEcho) this.outOfOrder++;
    else this.highestEcho = echo.n;
  }
}

/** Many load clients sending at a steady rate, reconnecting on close, with every connection recorded. */
export class LoadPool {
  readonly clients: LoadClient[];
  readonly connections: Connection[] = [];
  /** Close → next open, per reconnect, in ms. */
  readonly reconnectMs: number[] = [];
  sending = false;
  closing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly options: LoadOptions) {
    this.clients = Array.from({ length: options.clients }, (_, i) => new LoadClient(`k${i}`, i, this));
  }

  newConnection(gateway: number): Connection {
    const connection: Connection = { id: this.connections.length, gateway, end: 'open' };
    this.connections.push(connection);
    return connection;
  }

  /** Opens every client (a few at a time, so start-up does not storm the gateways). */
  async connectAll(batch = 50): Promise<void> {
    for (let i = 0; i < this.clients.length; i += batch) await Promise.all(this.clients.slice(i, i + batch).map((client) => client.connect()));
  }

  startSending(): void {
    const period = 1000 / this.options.rate;
    const now = Date.now();
    this.sending = true;
    for (const client of this.clients) client.nextAt = now + this.options.rng.next() * period;
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const client of this.clients) {
        // Never catch up a backlog in a burst after a stall: at most a few sends per tick.
        for (let burst = 0; now >= client.nextAt && burst < 4; burst++) {
          if (client.open) client.send();
          client.nextAt += period;
        }
        if (now >= client.nextAt) client.nextAt = now + period;
      }
    }, TICK_MS);
  }

  stopSending(): void {
    this.sending = false;
    clearInterval(this.timer);
  }

  get allOpen(): boolean {
    return this.clients.every((client) => client.open);
  }

  /** Messages written on the clients' current connections and not echoed yet. */
  get outstanding(): number {
    return this.clients.reduce((sum, client) => sum + client.pending.size, 0);
  }

  close(): void {
    this.stopSending();
    this.closing = true;
    for (const client of this.clients) client.close();
  }
}
