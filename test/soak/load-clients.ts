import WebSocket from 'ws';
import type { Prng } from './prng.js';

/** How a client connection ended, as the soak attributes it. */
export type ConnectionEnd = 'open' | 'client-close' | 'gateway-sigkill' | 'gateway-sigterm' | 'gateway-power-cut' | 'slow-1008' | `close-${number}`;

export interface Connection {
  id: number;
  /** The key of the client that opened it. */
  client: string;
  /** The index of the URL it was opened to in `urls`; `urls.length` for `reconnectUrl`. */
  gateway: number;
  end: ConnectionEnd;
  /** When it opened (ms since the epoch). */
  openedAt: number;
  /** The close code it ended with. */
  closeCode?: number;
  /** Its client id, once the handler has told it (`learnClientIds`). */
  clientId?: string;
}

/** SIGKILL, SIGTERM (a drain), or a power cut (the gateway's node gone: nothing closes, the client notices silence). */
export type GatewayFault = 'sigkill' | 'sigterm' | 'power-cut' | undefined;

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
  /** What is being done to the gateway of `connection` right now, to tell why the connection ended. */
  gatewayFault(connection: Connection): GatewayFault;
  /** Where clients go after their first connection (a Service in front of the gateways); `urls` in turn when unset. */
  reconnectUrl?: string;
  /**
   * A connection on which nothing came (no message, no ping) for this long is given up and closed by the client, as a
   * client with heartbeats does when its server is gone without a word. Never when unset.
   */
  silenceLimitMs?: number;
  /** Each connection first asks the handler for its client id (`{join: 'load'}`). */
  learnClientIds?: boolean;
  /** Client keys are this and their number (`k` when unset): loads that share handler records need their own. */
  keyPrefix?: string;
}

const TICK_MS = 20;
const OPEN_BRACE = 0x7b;

/** Why a connection closed with `code` while its gateway was in `fault`. */
function classifyEnd(code: number, fault: GatewayFault): ConnectionEnd {
  if (fault === 'sigkill' && code === 1006) return 'gateway-sigkill';
  if (fault === 'sigterm' && (code === 1012 || code === 1006)) return 'gateway-sigterm';
  if (fault === 'power-cut' && code === 1006) return 'gateway-power-cut';
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
  /** Messages that were neither echoes nor answers to a join (pushes from a backend). */
  pushes = 0;
  nextAt = 0;
  private ws: WebSocket | undefined;
  /** The latest WebSocket, open or still connecting. */
  private latest: WebSocket | undefined;
  private connection: Connection | undefined;
  private nextGateway: number;
  private connectedOnce = false;
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

  /** Its open connection. */
  get current(): Connection | undefined {
    return this.open ? this.connection : undefined;
  }

  connect(): Promise<void> {
    const { urls, reconnectUrl, silenceLimitMs, learnClientIds } = this.pool.options;
    const again = reconnectUrl !== undefined && this.connectedOnce;
    const gateway = again ? urls.length : this.nextGateway;
    if (!again) this.nextGateway = (gateway + 1) % urls.length;
    const ws = new WebSocket(again ? reconnectUrl : urls[gateway]!, { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.latest = ws;
    let connection: Connection | undefined;
    let leaving = false;
    let lifetime: NodeJS.Timeout | undefined;
    let silence: NodeJS.Timeout | undefined;
    let heardAt = Date.now();
    const heard = () => (heardAt = Date.now());
    return new Promise<void>((resolve) => {
      ws.on('open', () => {
        this.connectedOnce = true;
        if (silenceLimitMs !== undefined) {
          silence = setInterval(() => {
            if (Date.now() - heardAt > silenceLimitMs) ws.terminate();
          }, Math.min(1000, silenceLimitMs / 4));
        }
        if (learnClientIds) ws.send('{"join":"load"}');
        const [min, max] = this.pool.options.lifetimeS ?? [0, 0];
        if (max > 0) {
          lifetime = setTimeout(() => {
            if (!this.pool.sending) return; // no churn once the soak is settling
            leaving = true;
            ws.close(1000, 'leaving');
          }, this.pool.options.rng.between(min, max) * 1000);
        }
        connection = this.pool.newConnection(this.key, gateway);
        this.connection = connection;
        this.ws = ws;
        this.attempt = 0;
        if (this.downSince !== undefined) this.pool.reconnectMs.push(Date.now() - this.downSince);
        this.downSince = undefined;
        resolve();
      });
      ws.on('message', (data: Buffer) => {
        heard();
        this.receive(data, connection);
      });
      ws.on('ping', heard);
      ws.on('error', () => {});
      ws.on('close', (code: number) => {
        resolve();
        clearTimeout(lifetime);
        clearInterval(silence);
        if (connection) {
          connection.closeCode = code;
          const left = leaving && code === 1000;
          // Connections still up when the soak ends stay 'open': what they left unechoed was given up.
          if (!this.pool.closing) connection.end = left ? 'client-close' : classifyEnd(code, this.pool.options.gatewayFault(connection));
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

  private receive(data: Buffer, connection: Connection | undefined): void {
    if (data[0] !== OPEN_BRACE) {
      this.pushes++;
      return;
    }
    const echo = JSON.parse(data.toString('utf8')) as { c: string; n: number; joined?: string; clientId?: string };
    if (echo.joined !== undefined) {
      if (connection) connection.clientId = echo.clientId;
      return;
    }
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
    this.clients = Array.from({ length: options.clients }, (_, i) => new LoadClient(`${options.keyPrefix ?? 'k'}${i}`, i, this));
  }

  newConnection(client: string, gateway: number): Connection {
    const connection: Connection = { id: this.connections.length, client, gateway, end: 'open', openedAt: Date.now() };
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
