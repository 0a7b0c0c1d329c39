import type { Server } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { Logger } from '../observability/log.js';
import { listen } from '../net/listen.js';
import { listeningAddress } from '../wire/own-address.js';
import { PeerConnection, type OwnAddress, heartbeat } from '../wire/peer-connection.js';
import { plainSockets, type PeerSockets } from '../wire/peer-sockets.js';
import { Role, type Envelope } from '../wire/types.js';

export interface RegisterOptions {
  host: string;
  port: number;
  /** The addresses dialers use to reach this Register (a Service name, say); empty: the address it listens on. */
  addresses: readonly string[];
  secret: Buffer;
  maxFrameBytes: number;
  /** Seconds between heartbeats on internal connections (DEFAULT_HEARTBEAT_SECONDS when unset). */
  heartbeatInterval?: number;
  name: string;
  log: Logger;
  registry?: Registry;
  /** Plain TCP when unset, or mutual TLS. */
  peerSockets?: PeerSockets;
  /** Told after each change of the gateway list has been pushed (the GatewayWorker compat port follows it). */
  onGatewaysChanged?: () => void;
}

/**
 * The directory: gateways announce their internal address, subscribers (workers, API clients) get the list
 * of live gateways now and again on every change. It keeps no client state, so it can restart at any time.
 */
export class Register {
  private readonly gateways = new Map<PeerConnection, string>();
  private readonly subscribers = new Set<PeerConnection>();
  private server: Server | undefined;
  listening = false;
  private pushScheduled = false;
  readonly registry: Registry;
  private readonly gatewayGauge: Gauge;
  private readonly subscriberGauge: Gauge;
  private readonly ownAddress: OwnAddress;

  constructor(private readonly options: RegisterOptions) {
    this.registry = options.registry ?? new Registry();
    this.ownAddress = listeningAddress(options.host, options.port, options.addresses);
    this.gatewayGauge = new Gauge({ name: 'gwc_register_gateways', help: 'Gateways announced', registers: [this.registry] });
    this.subscriberGauge = new Gauge({ name: 'gwc_register_subscribers', help: 'Workers and API clients subscribed', registers: [this.registry] });
  }

  async start(): Promise<void> {
    const { log } = this.options;
    this.server = (this.options.peerSockets ?? plainSockets).createServer((socket) => this.accept(socket));
    await listen(this.server, this.options.port, this.options.host);
    this.listening = true;
    log.info('ready', { logEvent: 'ready', host: this.options.host, port: this.options.port });
  }

  gatewayAddresses(): string[] {
    return [...new Set(this.gateways.values())].sort();
  }

  async stop(): Promise<void> {
    this.listening = false;
    for (const conn of [...this.gateways.keys(), ...this.subscribers]) conn.close('register stopping');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: import('node:net').Socket): void {
    const { log } = this.options;
    const conn = new PeerConnection(socket, { accept: this.ownAddress }, {
      secret: this.options.secret,
      maxFrameBytes: this.options.maxFrameBytes,
      ...heartbeat(this.options.heartbeatInterval),
      log,
      role: Role.Register,
      name: this.options.name,
    });
    conn.on('envelope', (envelope: Envelope) => this.onEnvelope(conn, envelope));
    conn.on('close', () => {
      const address = this.gateways.get(conn);
      if (address !== undefined) {
        this.gateways.delete(conn);
        log.info('gateway left', { logEvent: 'gateway-left', address, peer: conn.remoteName });
        this.schedulePush();
      }
      this.subscribers.delete(conn);
      this.updateGauges();
    });
  }

  /** Only gateways announce and only workers and API clients subscribe: the connection refuses anything else (role-messages.ts). */
  private onEnvelope(conn: PeerConnection, envelope: Envelope): void {
    if (envelope.announce) {
      this.gateways.set(conn, envelope.announce.address ?? '');
      this.options.log.info('gateway joined', { logEvent: 'gateway-joined', address: envelope.announce.address, peer: conn.remoteName });
      this.schedulePush();
    } else if (envelope.subscribe) {
      this.subscribers.add(conn);
      conn.send({ gatewayList: { addresses: this.gatewayAddresses() } });
    }
    this.updateGauges();
  }

  /** Many changes in one event-loop turn (a restart, a scale-up) make one push. */
  private schedulePush(): void {
    if (this.pushScheduled) return;
    this.pushScheduled = true;
    setImmediate(() => {
      this.pushScheduled = false;
      const list = { gatewayList: { addresses: this.gatewayAddresses() } };
      for (const subscriber of this.subscribers) subscriber.send(list);
      this.options.onGatewaysChanged?.();
    });
  }

  private updateGauges(): void {
    this.gatewayGauge.set(new Set(this.gateways.values()).size);
    this.subscriberGauge.set(this.subscribers.size);
  }
}
