import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/log.js';
import type { CloseCause } from '../wire/close-cause.js';
import type { PeerSockets } from '../wire/peer-sockets.js';
import { FEATURE_PAGED_REPLIES } from '../wire/handshake.js';
import { ReconnectingPeer, type DialOptions } from '../wire/reconnecting-peer.js';
import { Role, type Envelope } from '../wire/types.js';
import { heartbeat } from '../wire/peer-connection.js';

export interface ClusterConnectionOptions {
  /** The Register, or several: each is subscribed to, and the gateways any of them lists are reached. */
  registerAddress: string | readonly string[];
  secret: Buffer;
  name: string;
  role: Role.Worker | Role.Api;
  log: Logger;
  maxFrameBytes: number;
  /** Seconds between heartbeats on internal connections (DEFAULT_HEARTBEAT_SECONDS when unset). */
  heartbeatInterval?: number | undefined;
  /** Plain TCP when unset, or mutual TLS. */
  sockets?: PeerSockets | undefined;
  /** Hello features offered to gateways (see gwc.proto). */
  features?: string[];
}

/**
 * A subscription to the Register plus one connection per Gateway it lists. Only gateways the Register announced
 * are ever dialled: a client id names a gateway address, and a client may make one up.
 *
 * A gateway missing from a list is not dropped while its connection is healthy: a freshly restarted Register
 * pushes partial lists until every gateway has re-announced. A link is stopped once it is down and its
 * address is no longer listed.
 *
 * Events: 'envelope' (address, env), 'gateway-ready' (address), 'gateway-down' (address), 'gateways' (list).
 */
export class ClusterConnection extends EventEmitter {
  private readonly links = new Map<string, ReconnectingPeer>();
  /** The keys of `links`, as targets() gives them: made again only once a link is added or dropped. */
  private linkAddresses: readonly string[] = [];
  private listed = new Set<string>();
  private readonly registerLinks: ReconnectingPeer[] = [];
  /** The last list of each Register while it is connected. */
  private readonly lists = new Map<string, string[]>();
  private listReceived = false;
  private listWaiters: Array<() => void> = [];
  readonly peerOptions: DialOptions;

  constructor(private readonly options: ClusterConnectionOptions) {
    super();
    this.peerOptions = {
      secret: options.secret,
      maxFrameBytes: options.maxFrameBytes,
      ...heartbeat(options.heartbeatInterval),
      log: options.log,
      role: options.role,
      name: options.name,
      sockets: options.sockets,
      // Its GatewayClient merges paged replies, whatever else the role offers.
      features: [FEATURE_PAGED_REPLIES, ...(options.features ?? [])],
    };
  }

  /** The Registers' addresses. */
  get registerAddresses(): readonly string[] {
    const { registerAddress } = this.options;
    return typeof registerAddress === 'string' ? [registerAddress] : registerAddress;
  }

  start(): this {
    for (const address of this.registerAddresses) {
      const link = new ReconnectingPeer(address, Role.Register, this.peerOptions);
      link.on('ready', () => {
        this.options.log.info('subscribed to register', { logEvent: 'subscribed', register: address });
        link.send({ subscribe: {} });
      });
      link.on('envelope', (envelope: Envelope) => {
        if (!envelope.gatewayList) return;
        this.lists.set(address, envelope.gatewayList.addresses ?? []);
        this.updateGateways();
      });
      // A Register that is down lists nothing: what only it listed goes once its connection is down too.
      link.on('down', () => {
        if (this.lists.delete(address)) this.updateGateways();
      });
      this.registerLinks.push(link.start());
    }
    return this;
  }

  stop(): void {
    for (const link of this.registerLinks) link.stop();
    for (const link of this.links.values()) link.stop('shutting down');
    this.links.clear();
    this.linkAddresses = [];
  }

  /** Resolves once the Register has sent its first gateway list (rejects after `timeoutMs`). */
  /** Whether the Register has sent the gateway list at least once. */
  get hasList(): boolean {
    return this.listReceived;
  }

  whenListed(timeoutMs: number): Promise<void> {
    if (this.listReceived) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no gateway list from register ${this.registerAddresses.join(' or ')} within ${timeoutMs} ms`)), timeoutMs);
      this.listWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get log(): Logger {
    return this.options.log;
  }

  /** Every gateway that commands should reach: the listed ones and any still connected (each has a link). */
  targets(): readonly string[] {
    return this.linkAddresses;
  }

  connectedCount(): number {
    let count = 0;
    for (const link of this.links.values()) if (link.ready) count++;
    return count;
  }

  /** The link to a gateway of the current list (or one still connected from an earlier list); undefined for any other address. */
  link(address: string): ReconnectingPeer | undefined {
    return this.links.get(address);
  }

  private addLink(address: string): void {
    if (this.links.has(address)) return;
    const link = new ReconnectingPeer(address, Role.Gateway, this.peerOptions);
    this.links.set(address, link);
    this.linkAddresses = [...this.links.keys()];
    link.on('ready', () => {
      this.options.log.info('gateway connected', { logEvent: 'gateway-connected', gateway: address });
      this.emit('gateway-ready', address);
    });
    link.on('envelope', (envelope: Envelope) => this.emit('envelope', address, envelope));
    link.on('down', (cause: CloseCause, wasReady: boolean) => {
      if (wasReady) this.emit('gateway-down', address);
      if (!this.listed.has(address)) this.drop(address, cause.detail);
    });
    link.start();
  }

  /** The gateways any connected Register lists. */
  private updateGateways(): void {
    const addresses = [...new Set([...this.lists.values()].flat())];
    this.listed = new Set(addresses);
    for (const address of addresses) this.addLink(address);
    for (const [address, link] of this.links) if (!this.listed.has(address) && !link.ready) this.drop(address, 'gateway left');
    if (!this.listReceived) {
      this.listReceived = true;
      for (const wake of this.listWaiters.splice(0)) wake();
    }
    this.emit('gateways', addresses);
  }

  private drop(address: string, reason: string): void {
    const link = this.links.get(address);
    if (!link) return;
    this.links.delete(address);
    this.linkAddresses = [...this.links.keys()];
    link.stop(reason);
    this.options.log.info('gateway dropped', { logEvent: 'gateway-dropped', gateway: address, reason });
  }
}
