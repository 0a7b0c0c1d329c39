import { randomInt } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Registry } from 'prom-client';
import type { Logger } from '../observability/log.js';
import type { TlsFiles } from '../tls/tls-material.js';
import { openFileLimit } from '../config/open-file-limit.js';
import { listen } from '../observability/health-server.js';
import { formatAddress } from '../wire/address.js';
import { encodeClientId } from '../wire/client-id.js';
import { announcedAddress } from '../wire/own-address.js';
import type { CloseCause } from '../wire/close-cause.js';
import { PeerConnection, type OwnAddress, heartbeat } from '../wire/peer-connection.js';
import { plainTransport, type PeerTransport } from '../wire/peer-transport.js';
import { ReconnectingPeer } from '../wire/reconnecting-peer.js';
import { ErrorCode, EventKind, Role, toNumber, type ClientEvent, type Command, type Envelope, type UpgradeVerdict } from '../wire/types.js';
import { Client, ClientRegistry } from './client-registry.js';
import type { ClientSink, ClientTransport, UpgradeCheck, UpgradeRequest } from './client-transport.js';
import { executeCommand, type Delivery } from './command-executor.js';
import { createClientServer } from './client-server.js';
import { connectionLimits, type ConnectionLimits } from './connection-limits.js';
import { EventDelivery } from './event-delivery.js';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import type { RouterKind } from './router.js';
import type { PendingUpgradeTransport } from './transports/pending-upgrade-transport.js';
import { FEATURE_PAGED_REPLIES } from '../wire/handshake.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../wire/peer-handshake.js';
import type { CompatGateway } from '../compat/gateway-commands.js';
import { withGatewayWorkerCompat, type GatewayWorkerCompatOptions } from '../compat/gateway-client-port.js';
import { ReplyTooLargeError, replyPages } from '../wire/reply-pages.js';

export interface GatewayOptions {
  name: string;
  secret: Buffer;
  log: Logger;
  /** The Register, or several: this gateway announces itself to each. */
  registerAddress: readonly string[];
  protocol: 'websocket' | 'text' | 'frame';
  host: string;
  port: number;
  lanIp: string;
  internalPort: number;
  internalHost?: string | undefined;
  pingInterval: number;
  pingNotResponseLimit: number;
  pingData: string;
  maxPayload: number;
  /** Unset: as many as the open-file limit allows (connection-limits.ts). */
  maxConnections?: number | undefined;
  /** Seconds a client may take over its TLS handshake and HTTP upgrade request. */
  handshakeTimeout: number;
  /** A client with more than this many bytes unread is closed (CLOSE_SEND_BUFFER_FULL) instead of buffered further. */
  maxSendBuffer: number;
  /** On stop, clients are closed over this many seconds rather than all at once. */
  drainSeconds: number;
  /** A client sending more messages than this within one second is closed (0: no limit). */
  maxMessagesPerSecond: number;
  /** Origins a WebSocket upgrade must carry; empty: any. */
  allowedOrigins: string[];
  router: RouterKind;
  maxPendingEvents: number;
  /** Unacknowledged events (count, body bytes) per worker, and per client, before clients wait. */
  workerWindow: number;
  workerWindowBytes: number;
  clientWindow: number;
  /** Seconds an upgrade waits for a worker's onWebSocketConnect verdict before it is refused with 503. */
  upgradeTimeout: number;
  maxFrameBytes: number;
  /** Seconds between heartbeats on internal connections (10 when unset). */
  heartbeatInterval?: number;
  webRoot?: string | undefined;
  /** Certificate files for clients (wss://, TLS for text and frame); plain when unset. */
  tls?: TlsFiles | undefined;
  /** How internal connections are made: plain TCP when unset, or mutual TLS. */
  peerTransport?: PeerTransport;
  /** Set: the internal port also answers GatewayWorker's GatewayClient, which must send this secret (runtime/compat). */
  gatewayWorkerSecret?: Buffer | undefined;
  registry?: Registry;
}

type Verdict = Awaited<UpgradeCheck['verdict']>;

/** WebSocket close code for "service restart": clients should reconnect. */
export const CLOSE_SERVICE_RESTART = 1012;
/** Policy violation: used for a client past a limit (unread bytes, message rate). */
export const CLOSE_POLICY_VIOLATION = 1008;
/** How long a client closed for a violation gets to take its close frame before the connection is dropped. */
const CLOSE_GRACE_MS = 2000;
/** Closing clients during a drain happens at most this often. */
const DRAIN_BATCH_MS = 100;
const CLOSE_TRY_AGAIN_LATER = 1013;
/** After the drain, how long a stopping gateway waits for its clients' connections to end. */
const CLIENTS_GONE_MS = 3000;
/** After its clients are closed, how long a stopping gateway waits for workers to handle what they sent. */
const FINISH_EVENTS_MS = 5000;

/**
 * Holds client connections, forwards their events to workers and carries out commands from workers and
 * API clients. It announces its internal address to the Register and re-announces after every reconnect.
 */
export class Gateway implements ClientSink, Delivery {
  readonly clients = new ClientRegistry();
  readonly registry: Registry;
  readonly internalAddress: string;
  /** Workers and API clients dial the address this gateway announces, and no other. */
  private readonly ownAddress: OwnAddress;
  private readonly delivery: EventDelivery;
  private readonly peers = new Set<PeerConnection>();
  /** Upgrades waiting for a worker's verdict, by the sequence of their WEB_SOCKET_CONNECT event. */
  private readonly verdicts = new Map<number, (verdict: UpgradeVerdict) => void>();
  private nextConnection = randomInt(2 ** 32);
  private nextWorkerKey = 0;
  /** Starts from the clock, so a restarted gateway at the same address does not reuse message ids. */
  private sequence = Date.now() * 1000;
  private clientServer: Server | undefined;
  private internalServer: Server | undefined;
  private readonly registerLinks: ReconnectingPeer[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly pingData: Buffer | undefined;
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;
  private readonly limits: ConnectionLimits;
  private accepting = false;

  constructor(private readonly options: GatewayOptions) {
    this.log = options.log;
    this.registry = options.registry ?? new Registry();
    this.delivery = new EventDelivery({
      router: options.router,
      window: options.workerWindow,
      windowBytes: options.workerWindowBytes,
      clientWindow: options.clientWindow,
      maxWaiting: options.maxPendingEvents,
    });
    this.internalAddress = formatAddress(ipaddr.parse(options.lanIp).toString(), options.internalPort);
    this.ownAddress = announcedAddress(this.internalAddress);
    this.pingData = options.pingData ? Buffer.from(options.pingData) : undefined;
    this.limits = connectionLimits(options.maxConnections, openFileLimit());
    this.metrics = createGatewayMetrics(this.registry, {
      connections: () => this.clients.size,
      workers: () => this.delivery.workerCount,
      pending: () => this.delivery.waiting,
      unacknowledged: () => this.delivery.unacknowledged,
      redelivered: () => this.delivery.stats.redelivered,
    });
  }

  get ready(): boolean {
    return this.accepting;
  }

  async start(): Promise<void> {
    const { options } = this;
    const peers = (options.peerTransport ?? plainTransport).createServer((socket) => this.acceptPeer(socket));
    this.internalServer = options.gatewayWorkerSecret ? withGatewayWorkerCompat(peers, this.compatGateway(), this.compatOptions(options.gatewayWorkerSecret)) : peers;
    await listen(this.internalServer, options.internalPort, options.internalHost ?? options.lanIp);

    if (this.limits.lowered) {
      this.log.warn('max-connections lowered to fit the open-file limit', { ...this.limits.lowered, maxConnections: this.limits.clients });
    }
    this.clientServer = createClientServer({ ...options, handshakeTimeoutMs: options.handshakeTimeout * 1000, log: this.log, registry: this.registry }, this);
    if (this.limits.sockets !== undefined) this.clientServer.maxConnections = this.limits.sockets;
    await listen(this.clientServer, options.port, options.host);
    this.accepting = true;

    for (const address of options.registerAddress) {
      const link = new ReconnectingPeer(address, Role.Register, { ...this.peerOptions(Role.Gateway), transport: options.peerTransport });
      const announced = () => this.metrics.registerConnected.set(this.registerLinks.filter((l) => l.ready).length);
      link.on('ready', () => {
        link.send({ announce: { address: this.internalAddress } });
        announced();
        this.log.info('announced to register', { register: address, address: this.internalAddress });
      });
      link.on('down', announced);
      this.registerLinks.push(link.start());
    }

    if (options.pingInterval > 0) {
      this.heartbeatTimer = setInterval(() => this.heartbeat(), options.pingInterval * 1000);
    }
    this.log.info('ready', {
      protocol: options.protocol,
      host: options.host,
      port: options.port,
      internalAddress: this.internalAddress,
      maxConnections: this.limits.clients,
    });
  }

  /** How long stop() may take: the drain, then a few seconds for the last closes and handlers. */
  get stopTimeoutMs(): number {
    return this.options.drainSeconds * 1000 + CLIENTS_GONE_MS + FINISH_EVENTS_MS + 2000;
  }

  /**
   * Stops accepting, leaves the Register, then closes clients with 1012 in batches spread over drainSeconds (so
   * their reconnects do not all land on the other gateways at once). What their clients sent before is still
   * handled: the worker connections stay up until every event held here has gone to a worker and every worker
   * has acknowledged what it got (or FINISH_EVENTS_MS pass).
   */
  async stop(): Promise<void> {
    this.accepting = false;
    clearInterval(this.heartbeatTimer);
    for (const link of this.registerLinks) link.stop('gateway stopping');
    const closed = new Promise<void>((resolve) => (this.clientServer ? this.clientServer.close(() => resolve()) : resolve()));
    await this.closeClientsOver(this.options.drainSeconds * 1000);
    await waitUntil(() => this.clients.size === 0, CLIENTS_GONE_MS);
    for (const client of [...this.clients.clients.values()]) client.transport.destroy();
    const finished = await waitUntil(() => this.delivery.waiting === 0 && this.delivery.unacknowledged === 0, FINISH_EVENTS_MS);
    if (!finished) this.log.warn('stopping with events not handled', { waiting: this.delivery.waiting, unacknowledged: this.delivery.unacknowledged });
    for (const peer of this.peers) peer.close('gateway stopping');
    this.internalServer?.close();
    await closed;
  }

  private async closeClientsOver(drainMs: number): Promise<void> {
    const clients = [...this.clients.clients.values()];
    const batches = Math.max(1, Math.min(clients.length, Math.floor(drainMs / DRAIN_BATCH_MS)));
    const perBatch = Math.ceil(clients.length / batches);
    this.log.info('draining clients', { clients: clients.length, drainMs, batches });
    for (let start = 0; start < clients.length; start += perBatch) {
      for (const client of clients.slice(start, start + perBatch)) client.transport.close(CLOSE_SERVICE_RESTART, 'gateway stopping');
      if (start + perBatch < clients.length) await new Promise((resolve) => setTimeout(resolve, drainMs / batches));
    }
  }

  // ---- ClientSink: events from the protocol listeners ----

  canAccept(): boolean {
    if (!this.accepting) return false;
    if (this.clients.size >= this.limits.clients) {
      this.metrics.connectionsRefused.inc({ reason: 'max-connections' });
      return false;
    }
    return true;
  }

  opened(transport: ClientTransport, upgrade?: UpgradeRequest): Client {
    const client = this.newClient(transport);
    if (upgrade) this.dispatch(client, EventKind.WebSocketConnect, undefined, false, upgrade);
    return client;
  }

  /**
   * When workers decide upgrades (their handler has onWebSocketConnect), the client exists from here on but the
   * upgrade completes only on the verdict: onConnect and onWebSocketConnect run first, as in GatewayWorker.
   */
  checkUpgrade(transport: ClientTransport, upgrade: UpgradeRequest): UpgradeCheck | undefined {
    if (!this.delivery.decidesUpgrades) return undefined;
    const client = this.newClient(transport);
    const sequence = this.sequence + 1;
    const verdict = new Promise<Verdict>((resolve) => {
      const timer = setTimeout(() => settle({ status: 503, reason: 'no verdict from a worker in time' }), this.options.upgradeTimeout * 1000);
      const settle = (received: UpgradeVerdict) => {
        const verdict = { status: received.status ?? 0, reason: received.reason };
        clearTimeout(timer);
        this.verdicts.delete(sequence);
        if (verdict.status !== 0) this.refuseUpgrade(client, verdict);
        resolve(verdict);
      };
      this.verdicts.set(sequence, settle);
    });
    this.dispatch(client, EventKind.WebSocketConnect, undefined, false, upgrade, true);
    return { client, verdict };
  }

  upgraded(client: Client, transport: ClientTransport): void {
    if (this.clients.get(client.id) !== client) return transport.destroy();
    (client.transport as PendingUpgradeTransport).handOver(transport);
    client.transport = transport;
  }

  /** The client went away while its upgrade waited for a verdict. */
  abandoned(client: Client): void {
    this.log.info('client left before its upgrade was decided', { clientId: client.id });
    this.closed(client);
  }

  private refuseUpgrade(client: Client, verdict: Verdict): void {
    if (verdict.status < 400 || verdict.status > 599) verdict.status = 403;
    this.metrics.connectionsRefused.inc({ reason: verdict.status === 503 ? 'verdict-timeout' : 'handler' });
    this.log.info('WebSocket upgrade refused', { clientId: client.id, status: verdict.status, reason: verdict.reason ?? '' });
    this.closed(client);
  }

  private newClient(transport: ClientTransport): Client {
    const client = new Client(this.newClientId(), transport);
    this.clients.add(client);
    this.metrics.connectionsAccepted.inc();
    this.dispatch(client, EventKind.Connect);
    return client;
  }

  message(client: Client, data: Buffer, binary: boolean): void {
    if (client.closing) return;
    if (this.options.maxMessagesPerSecond > 0 && this.overRate(client)) return;
    client.silentIntervals = 0;
    this.metrics.messagesReceived.count++;
    this.dispatch(client, EventKind.Message, data, binary);
  }

  /** Counts the message in the client's current one-second window; closes a client past the limit. */
  private overRate(client: Client): boolean {
    const now = Date.now();
    if (now - client.rateWindowStart >= 1000) {
      client.rateWindowStart = now;
      client.rateWindowCount = 0;
    }
    if (++client.rateWindowCount <= this.options.maxMessagesPerSecond) return false;
    this.metrics.connectionsRefused.inc({ reason: 'rate-limit' });
    this.closeForViolation(client, 'message rate limit', 'message rate limit exceeded', { limit: this.options.maxMessagesPerSecond });
    return true;
  }

  rejectedUpgrade(reason: string, remote: string): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.log.warn('WebSocket upgrade refused', { reason, remote });
  }

  alive(client: Client): void {
    client.silentIntervals = 0;
  }

  closed(client: Client): void {
    if (this.clients.get(client.id) !== client) return;
    // Out of the indexes first, so queries made by onClose no longer see this client.
    this.clients.remove(client);
    this.delivery.clientGone(client);
    this.dispatch(client, EventKind.Close);
  }

  rejected(reason: string, remote: string): void {
    this.metrics.connectionsRefused.inc({ reason: 'protocol-error' });
    this.log.warn('client connection closed for a protocol error', { reason, remote });
  }

  // ---- Delivery: what commands do to clients ----

  deliver(client: Client, data: Buffer, binary: boolean): void {
    if (client.closing) return;
    if (client.transport.bufferedBytes + data.length > this.options.maxSendBuffer) return this.closeSlowClient(client);
    this.metrics.messagesSent.count++;
    client.transport.send(data, binary);
  }

  /** Never buffer without bound for a client that does not read: close it, and drop it if it cannot even take that. */
  private closeSlowClient(client: Client): void {
    this.metrics.slowClientsClosed.inc();
    this.closeForViolation(client, 'send buffer full', 'send buffer full: client too slow', {
      bufferedBytes: client.transport.bufferedBytes,
      maxSendBuffer: this.options.maxSendBuffer,
    });
  }

  /** Closes a client past a limit with 1008, logged; one that cannot even take the close frame is dropped. */
  private closeForViolation(client: Client, what: string, reason: string, fields: Record<string, unknown>): void {
    client.closing = true;
    this.log.warn(`client closed: ${what}`, { clientId: client.id, ...fields });
    client.transport.close(CLOSE_POLICY_VIOLATION, reason);
    setTimeout(() => client.transport.destroy(), CLOSE_GRACE_MS).unref();
  }

  close(client: Client, data: Buffer | undefined, binary: boolean): void {
    if (data) this.deliver(client, data, binary);
    client.transport.close(1000);
  }

  destroy(client: Client): void {
    client.transport.destroy();
  }

  sessionChanged(client: Client): void {
    this.delivery.sessionChanged(client);
  }

  // ---- internal connections ----

  private peerOptions(role: Role) {
    return {
      secret: this.options.secret,
      maxFrameBytes: this.options.maxFrameBytes,
      ...heartbeat(this.options.heartbeatInterval),
      log: this.log,
      role,
      name: this.options.name,
    };
  }

  private acceptPeer(socket: Socket): void {
    const conn = new PeerConnection(socket, { accept: this.ownAddress }, this.peerOptions(Role.Gateway));
    this.peers.add(conn);
    let workerKey: string | undefined;
    conn.on('ready', () => {
      if (conn.remoteRole !== Role.Worker) return;
      workerKey = `${conn.remoteName}#${++this.nextWorkerKey}`;
      this.delivery.addWorker(workerKey, conn);
      this.log.info('worker connected', { worker: conn.remoteName, workers: this.delivery.workerCount });
    });
    conn.on('envelope', (envelope: Envelope) => {
      if (envelope.command) this.onCommand(conn, envelope.command);
      else if (workerKey === undefined) return;
      else if (envelope.ack) this.delivery.acknowledged(workerKey, envelope.ack.sequences ?? []);
      else if (envelope.verdict) this.verdicts.get(toNumber(envelope.verdict.sequence))?.(envelope.verdict);
      else if (envelope.drain) this.drainWorker(conn, workerKey);
    });
    conn.on('close', (cause: CloseCause) => {
      this.peers.delete(conn);
      if (workerKey === undefined) return;
      const before = this.delivery.stats.redelivered;
      this.delivery.removeWorker(workerKey);
      this.log.info('worker disconnected', {
        worker: conn.remoteName,
        reason: cause.detail,
        workers: this.delivery.workerCount,
        redelivered: this.delivery.stats.redelivered - before,
      });
    });
  }

  /** GatewayClient's commands run as a worker's do, on clients named by GatewayWorker's connection ids. */
  private compatGateway(): CompatGateway {
    return {
      execute: (command) => {
        this.metrics.commands.count++;
        return executeCommand(command, this.clients, this);
      },
      clientId: (connection) => encodeClientId({ host: this.options.lanIp, port: this.options.internalPort, connection }),
    };
  }

  private compatOptions(secret: Buffer): GatewayWorkerCompatOptions {
    return { secret, maxFrameBytes: this.options.maxFrameBytes, handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS, log: this.log, registry: this.registry };
  }

  /** A stopping worker gets no new events; its clients move to other workers once it has finished theirs. */
  private drainWorker(conn: PeerConnection, workerKey: string): void {
    this.delivery.drainWorker(workerKey);
    this.log.info('worker draining', { worker: conn.remoteName, workers: this.delivery.workerCount });
    conn.send({ drain: {} });
  }

  private onCommand(conn: PeerConnection, command: Command): void {
    this.metrics.commands.count++;
    let reply;
    try {
      reply = executeCommand(command, this.clients, this);
    } catch (error) {
      this.log.error('command failed', { op: command.op, error });
      reply = { error: (error as Error).message, errorCode: ErrorCode.Internal };
    }
    if (!command.requestId) return;
    let pages;
    try {
      pages = replyPages({ requestId: command.requestId, ...reply }, this.options.maxFrameBytes, conn.remoteFeatures.includes(FEATURE_PAGED_REPLIES));
    } catch (error) {
      pages = [{ requestId: command.requestId, error: (error as Error).message, errorCode: error instanceof ReplyTooLargeError ? ErrorCode.TooLarge : ErrorCode.Internal }];
    }
    for (const page of pages) conn.send({ reply: page });
  }

  // ---- events to workers ----

  private dispatch(client: Client, kind: EventKind, body?: Buffer, binary = false, upgrade?: UpgradeRequest, awaitsVerdict = false): void {
    // Fields at their zero value are left out: protobufjs would encode them (an empty session, binary false).
    const event: ClientEvent = {
      kind,
      clientId: client.id,
      sequence: ++this.sequence,
      remoteAddress: client.transport.remoteAddress,
      remotePort: client.transport.remotePort,
    };
    if (client.sessionVersion > 0) {
      event.session = client.session;
      event.sessionVersion = client.sessionVersion;
    }
    if (body) event.body = body;
    if (binary) event.binary = true;
    if (upgrade) {
      event.url = upgrade.url;
      event.headers = upgrade.headers;
      event.awaitsVerdict = awaitsVerdict;
    }
    if (this.delivery.dispatch(client, event)) return;
    this.metrics.connectionsRefused.inc({ reason: 'no-worker' });
    client.transport.close(CLOSE_TRY_AGAIN_LATER, 'no worker available');
  }

  private newClientId(): string {
    for (;;) {
      this.nextConnection = (this.nextConnection + 1) >>> 0;
      const id = encodeClientId({ host: this.options.lanIp, port: this.options.internalPort, connection: this.nextConnection });
      if (!this.clients.get(id)) return id;
    }
  }

  private heartbeat(): void {
    const limit = this.options.pingNotResponseLimit;
    for (const client of this.clients.clients.values()) {
      // A client held back while its worker is busy is not read from, so its silence proves nothing.
      if (client.waiting) continue;
      if (limit > 0 && client.silentIntervals >= limit) {
        this.metrics.connectionsRefused.inc({ reason: 'heartbeat-timeout' });
        client.transport.destroy();
        continue;
      }
      client.silentIntervals++;
      client.transport.ping(this.pingData);
    }
  }
}

/** True once `condition` holds, false when `timeoutMs` passed first. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
