import { randomInt } from 'node:crypto';
import type { Server } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Registry } from 'prom-client';
import { listen } from '../net/listen.js';
import type { Logger } from '../observability/log.js';
import type { TlsFiles } from '../tls/tls-material.js';
import { formatAddress } from '../net/address.js';
import { encodeClientId } from '../wire/client-id.js';
import { messageIdOf } from '../wire/message-id.js';
import { announcedAddress } from '../wire/own-address.js';
import { heartbeat, type PeerOptions } from '../wire/peer-connection.js';
import type { PeerSockets } from '../wire/peer-sockets.js';
import { EventKind, Role, toNumber, type ClientEvent, type Command, type Reply } from '../wire/types.js';
import { ClientAdmission } from './client-admission.js';
import { clientClass, type Client } from './client.js';
import { ClientEvents } from './client-events.js';
import { ClientRegistry } from './client-registry.js';
import { createClientServer } from './client-server.js';
import type { ClientSink, ClientTransport, UpgradeCheck, UpgradeRequest } from './client-transport.js';
import { executeCommand, type Delivery } from './command-executor.js';
import { connectionLimits, type ConnectionLimits } from './connection-limits.js';
import { DISCONNECTS, UPGRADE_REFUSED, type RefusalReason } from './disconnects.js';
import { drainClients } from './drain.js';
import { EventDelivery } from './event-delivery.js';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import { InternalServer } from './internal-server.js';
import { RegisterAnnouncer } from './register-announcer.js';
import type { RouterKind } from './router.js';
import { gatewayStopBudgetMs } from './stop-budget.js';
import { UpgradeVerdicts } from './upgrade-verdicts.js';

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
  /** The process's open-file limit (net/open-file-limit.ts); unset or Infinity: none known. */
  openFileLimit?: number | undefined;
  /** Seconds a client may take over its TLS handshake and HTTP upgrade request. */
  handshakeTimeout: number;
  /** A client with more than this many bytes unread is closed (disconnects.ts: slowClient) instead of buffered further. */
  maxSendBuffer: number;
  /** On stop, clients are closed over this many seconds rather than all at once. */
  drainSeconds: number;
  /** A client sending more messages than this within one second is closed (0: no limit). */
  maxMessagesPerSecond: number;
  /** Origins a WebSocket upgrade must carry; empty: any. */
  allowedOrigins: string[];
  router: RouterKind;
  /** Events held here (counting the Close each client with events waiting owes) before new clients are refused. */
  maxPendingEvents: number;
  /** Worker deaths a client event may coincide with before it is quarantined and its client closed. */
  maxEventDeaths: number;
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
  peerSockets?: PeerSockets;
  /** A second protocol on the internal port (GatewayWorker's GatewayClient, runtime/compat): see InternalServerOptions. */
  sniff?: ((peers: Server) => Server) | undefined;
  registry?: Registry;
}

/**
 * Holds client connections, forwards their events to workers and carries out commands from workers and API
 * clients, composed of: ClientAdmission (who gets in), Client (each connection, and its one way out), EventDelivery
 * (events to workers), UpgradeVerdicts, InternalServer (links from workers and API clients), RegisterAnnouncer, and
 * drainClients for the stop.
 */
export class Gateway implements ClientSink, Delivery {
  readonly clients = new ClientRegistry();
  readonly registry: Registry;
  readonly internalAddress: string;
  private readonly delivery: EventDelivery;
  private readonly events = new ClientEvents();
  private readonly verdicts: UpgradeVerdicts;
  private readonly admission: ClientAdmission;
  private readonly internal: InternalServer;
  private readonly announcer: RegisterAnnouncer;
  /** Its clients' class, which holds what they share (see clientClass). */
  private readonly GatewayClient: ReturnType<typeof clientClass>;
  private readonly metrics: GatewayMetrics;
  private readonly log: Logger;
  private readonly limits: ConnectionLimits;
  private nextConnection = randomInt(2 ** 32);
  private clientServer: Server | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.log = options.log;
    this.registry = options.registry ?? new Registry();
    this.delivery = new EventDelivery({
      router: options.router,
      window: options.workerWindow,
      windowBytes: options.workerWindowBytes,
      clientWindow: options.clientWindow,
      maxWaiting: options.maxPendingEvents,
      maxDeaths: options.maxEventDeaths,
      quarantined: (client, event, deaths) => this.quarantined(client, event, deaths),
    });
    this.internalAddress = formatAddress(ipaddr.parse(options.lanIp).toString(), options.internalPort);
    this.limits = connectionLimits(options.maxConnections, options.openFileLimit);
    this.metrics = createGatewayMetrics(this.registry, {
      connections: () => this.clients.size,
      workers: () => this.delivery.workerCount,
      pending: () => this.delivery.waiting,
      unacknowledged: () => this.delivery.unacknowledged,
      redelivered: () => this.delivery.stats.redelivered,
      quarantined: () => this.delivery.stats.quarantined,
    });
    this.GatewayClient = clientClass({
      limits: {
        maxMessagesPerSecond: options.maxMessagesPerSecond,
        maxSendBuffer: options.maxSendBuffer,
        pingNotResponseLimit: options.pingNotResponseLimit,
        pingData: options.pingData ? Buffer.from(options.pingData) : undefined,
      },
      metrics: this.metrics,
      log: this.log,
      left: (client) => this.left(client),
    });
    this.admission = new ClientAdmission(this.clients, this.delivery, this.limits, this.metrics);
    this.verdicts = new UpgradeVerdicts(options.upgradeTimeout * 1000);
    const peer = this.peerOptions();
    this.internal = new InternalServer({
      ownAddress: announcedAddress(this.internalAddress),
      peer,
      sockets: options.peerSockets,
      delivery: this.delivery,
      verdicts: this.verdicts,
      execute: (command) => this.execute(command),
      log: this.log,
      ...(options.sniff ? { sniff: options.sniff } : {}),
    });
    this.announcer = new RegisterAnnouncer({
      registers: options.registerAddress,
      address: this.internalAddress,
      dial: { ...peer, sockets: options.peerSockets },
      connected: this.metrics.registerConnected,
      log: this.log,
    });
  }

  get ready(): boolean {
    return this.admission.open;
  }

  async start(): Promise<void> {
    const { options } = this;
    await this.internal.listen(options.internalPort, options.internalHost ?? options.lanIp);
    if (this.limits.lowered) {
      this.log.warn('max-connections lowered to fit the open-file limit', { ...this.limits.lowered, maxConnections: this.limits.clients });
    }
    this.clientServer = createClientServer({ ...options, handshakeTimeoutMs: options.handshakeTimeout * 1000, log: this.log, registry: this.registry }, this);
    if (this.limits.sockets !== undefined) this.clientServer.maxConnections = this.limits.sockets;
    await listen(this.clientServer, options.port, options.host);
    this.admission.start(options.pingInterval);
    this.announcer.start();
    this.log.info('ready', {
      logEvent: 'ready',
      protocol: options.protocol,
      host: options.host,
      port: options.port,
      internalAddress: this.internalAddress,
      maxConnections: this.limits.clients,
    });
  }

  /** How long stop() may take (stop-budget.ts). */
  get stopTimeoutMs(): number {
    return gatewayStopBudgetMs(this.options.drainSeconds);
  }

  /** Stops accepting, leaves the Register, drains its clients (drain.ts), then closes the worker links. */
  async stop(): Promise<void> {
    this.admission.stop();
    this.announcer.stop('gateway stopping');
    const closed = new Promise<void>((resolve) => (this.clientServer ? this.clientServer.close(() => resolve()) : resolve()));
    await drainClients(this.clients, this.delivery, this.options.drainSeconds * 1000, this.log);
    this.delivery.stop();
    this.internal.close('gateway stopping');
    await closed;
  }

  /** Carries out a command from a worker or API client (the internal server's). */
  execute(command: Command): Omit<Reply, 'requestId'> | undefined {
    this.metrics.commands.count++;
    return executeCommand(command, this.clients, this);
  }

  // ---- ClientSink: what the protocol listeners report ----

  canAccept(): boolean {
    return this.admission.canAccept();
  }

  opened(transport: ClientTransport, upgrade?: UpgradeRequest): Client {
    const client = this.newClient(transport);
    if (upgrade) this.dispatch(client, this.events.upgrade(client, upgrade, false));
    return client;
  }

  checkUpgrade(transport: ClientTransport, upgrade: UpgradeRequest): UpgradeCheck | undefined {
    if (!this.delivery.decidesUpgrades) return undefined;
    const client = this.newClient(transport);
    const event = this.events.upgrade(client, upgrade, true);
    const check = this.verdicts.wait(client, toNumber(event.sequence));
    this.dispatch(client, event);
    return check;
  }

  upgraded(client: Client, transport: ClientTransport): void {
    client.upgraded(transport);
  }

  message(client: Client, data: Buffer, binary: boolean): void {
    if (client.admit()) this.dispatch(client, this.events.message(client, data, binary));
  }

  alive(client: Client): void {
    client.alive();
  }

  pinged(client: Client, data: Buffer): void {
    client.answerPing(data);
  }

  closed(client: Client): void {
    client.left();
  }

  rejectedUpgrade(reason: RefusalReason, remote: string): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.log.warn(UPGRADE_REFUSED, { reason, remote });
  }

  rejected(reason: string, remote: string): void {
    this.metrics.connectionsRefused.inc({ reason: 'protocol-error' });
    this.log.warn('client connection closed for a protocol error', { reason, remote });
  }

  // ---- Delivery: what commands do to clients ----

  deliver(client: Client, data: Buffer, binary: boolean): void {
    client.send(data, binary);
  }

  close(client: Client, data: Buffer | undefined, binary: boolean): void {
    if (data) client.send(data, binary);
    client.close(DISCONNECTS.closedByCommand);
  }

  destroy(client: Client): void {
    client.close(DISCONNECTS.destroyedByCommand);
  }

  sessionChanged(client: Client): void {
    this.delivery.sessionChanged(client);
  }

  // ---- clients coming and going ----

  private newClient(transport: ClientTransport): Client {
    const client = new this.GatewayClient(this.newClientId(), transport);
    this.clients.add(client);
    this.metrics.connectionsAccepted.inc();
    this.dispatch(client, this.events.create(client, EventKind.Connect));
    return client;
  }

  /** The client's connection is over: out of the indexes first, so that queries made by onClose no longer see it. */
  private left(client: Client): void {
    this.clients.remove(client);
    this.dispatch(client, this.events.create(client, EventKind.Close));
  }

  /** Sends the event on to a worker, or holds it; a client whose event finds no room is closed. */
  private dispatch(client: Client, event: ClientEvent): void {
    if (!this.delivery.dispatch(client, event)) client.close(DISCONNECTS.pendingEvents);
  }

  /**
   * An event whose delivery coincided with --max-event-deaths worker deaths (see EventDelivery): it is not delivered
   * again, nor anything its client sends but its Close, and the client is closed (refused, when its upgrade waits).
   */
  private quarantined(client: Client, event: ClientEvent, deaths: number): void {
    this.log.error('event quarantined: the workers it was delivered to died', {
      logEvent: 'event-quarantined',
      clientId: client.id,
      messageId: messageIdOf(this.internalAddress, event.sequence),
      event: EventKind[event.kind ?? EventKind.Connect],
      deaths,
    });
    if (!this.verdicts.quarantined(client)) client.close(DISCONNECTS.quarantined);
  }

  private newClientId(): string {
    for (;;) {
      this.nextConnection = (this.nextConnection + 1) >>> 0;
      const id = encodeClientId({ host: this.options.lanIp, port: this.options.internalPort, connection: this.nextConnection });
      if (!this.clients.get(id)) return id;
    }
  }

  private peerOptions(): PeerOptions {
    const { options } = this;
    return { secret: options.secret, maxFrameBytes: options.maxFrameBytes, ...heartbeat(options.heartbeatInterval), log: this.log, role: Role.Gateway, name: options.name };
  }
}
