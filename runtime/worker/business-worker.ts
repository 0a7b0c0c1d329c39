import { Gauge, Registry } from 'prom-client';
import { ClusterConnection } from '../client/cluster-connection.js';
import { GatewayClient } from '../client/gateway-client.js';
import { FastCounter } from '../observability/fast-counter.js';
import type { Logger } from '../observability/log.js';
import { Role, type Envelope } from '../wire/types.js';
import { EventDispatcher } from './event-dispatcher.js';
import type { Handler, WorkerInfo } from './handler.js';

export interface BusinessWorkerOptions {
  name: string;
  secret: Buffer;
  log: Logger;
  registerAddress: string;
  handler: Handler;
  processTimeout: number;
  maxFrameBytes: number;
  registry?: Registry;
}

/** Connects to every gateway the Register lists and runs the handler module for their clients' events. */
export class BusinessWorker {
  readonly registry: Registry;
  readonly gateway: GatewayClient;
  private readonly cluster: ClusterConnection;
  private readonly dispatcher: EventDispatcher;
  private readonly info: WorkerInfo;
  private started = false;

  constructor(private readonly options: BusinessWorkerOptions) {
    this.registry = options.registry ?? new Registry();
    this.cluster = new ClusterConnection({
      registerAddress: options.registerAddress,
      secret: options.secret,
      name: options.name,
      role: Role.Worker,
      log: options.log,
      maxFrameBytes: options.maxFrameBytes,
    });
    this.gateway = new GatewayClient(this.cluster);
    this.dispatcher = new EventDispatcher(options.handler, this.gateway, options.log, options.processTimeout * 1000);
    this.info = { name: options.name, gateway: this.gateway, log: options.log };
    this.cluster.on('envelope', (address: string, envelope: Envelope) => {
      if (envelope.event) this.dispatcher.dispatch(address, envelope.event);
    });
    this.defineMetrics();
  }

  /** Ready once started and connected to at least one gateway. */
  get ready(): boolean {
    return this.started && this.cluster.connectedCount() > 0;
  }

  async start(): Promise<void> {
    await this.options.handler.onWorkerStart?.(this.info);
    this.cluster.start();
    this.started = true;
    this.options.log.info('ready', { register: this.options.registerAddress });
  }

  async stop(): Promise<void> {
    this.cluster.stop();
    await this.dispatcher.idle(5000);
    this.dispatcher.stop();
    try {
      await this.options.handler.onWorkerStop?.(this.info);
    } catch (error) {
      this.options.log.error('onWorkerStop threw', { error });
    }
  }

  private defineMetrics(): void {
    const { registry, dispatcher, cluster } = this;
    const stats = dispatcher.stats;
    new FastCounter('gwc_worker_events_handled_total', 'Client events handled', registry, () => stats.handled);
    new FastCounter('gwc_worker_handler_errors_total', 'Handler callbacks that threw', registry, () => stats.failed);
    new FastCounter('gwc_worker_slow_events_total', 'Handler callbacks that ran past processTimeout', registry, () => stats.slow);
    new Gauge({ name: 'gwc_worker_gateways', help: 'Gateways connected', registers: [registry], collect() { this.set(cluster.connectedCount()); } });
    new Gauge({ name: 'gwc_worker_events_in_flight', help: 'Events queued or running', registers: [registry], collect() { this.set(dispatcher.inFlight); } });
  }
}
