import { Gauge, Registry } from 'prom-client';
import { ClusterConnection } from '../gateway-api/cluster-connection.js';
import { countSkippedGateways } from '../gateway-api/skipped-gateways-metric.js';
import { FastHistogram } from '../observability/fast-histogram.js';
import { FastCounter } from '../observability/fast-counter.js';
import type { Logger } from '../observability/log.js';
import type { PeerSockets } from '../wire/peer-sockets.js';
import { FEATURE_SESSION_UPDATES, FEATURE_UPGRADE_VERDICTS } from '../wire/handshake.js';
import { Role, type Envelope } from '../wire/types.js';
import { EventDispatcher } from './event-dispatcher.js';
import type { Handler, WorkerInfo } from './handler.js';
import { WorkerGatewayClient } from './worker-gateway-client.js';

/** How long a stopping worker waits for gateways to confirm they send it nothing more. */
const DRAIN_CONFIRM_TIMEOUT_MS = 2000;
/** How long it then gives the events it already has. */
const FINISH_TIMEOUT_MS = 7000;
/** Then for acknowledging them, leaving and onWorkerStop. */
const LEAVE_MS = 1000;

export interface BusinessWorkerOptions {
  name: string;
  /** This worker's number among the workers (see WorkerInfo.index); from the name when unset. */
  workerIndex?: number | undefined;
  secret: Buffer;
  log: Logger;
  registerAddress: readonly string[];
  handler: Handler;
  /** Seconds: a callback running this long is reported; one running `abandonTimeout` is given up (0: never). */
  processTimeout: number;
  abandonTimeout: number;
  maxFrameBytes: number;
  heartbeatInterval?: number;
  registry?: Registry;
  /** Plain TCP when unset, or mutual TLS. */
  peerSockets?: PeerSockets;
}

/** Connects to every gateway the Register lists and runs the handler module for their clients' events. */
export class BusinessWorker {
  readonly registry: Registry;
  readonly gateway: WorkerGatewayClient;
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
      heartbeatInterval: options.heartbeatInterval,
      sockets: options.peerSockets,
      features: options.handler.onWebSocketConnect ? [FEATURE_SESSION_UPDATES, FEATURE_UPGRADE_VERDICTS] : [FEATURE_SESSION_UPDATES],
    });
    this.gateway = new WorkerGatewayClient(this.cluster, { onSkipped: countSkippedGateways(this.registry) });
    const timeouts = { processTimeoutMs: options.processTimeout * 1000, abandonTimeoutMs: options.abandonTimeout * 1000 };
    const durations = new FastHistogram(
      'gwc_worker_handler_duration_seconds',
      'Time a handler callback took, from its start to its return (or throw)',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      this.registry,
    );
    this.dispatcher = new EventDispatcher(options.handler, this.gateway, options.log, timeouts, (address, envelope) => this.toGateway(address, envelope), {
      observeDuration: (seconds) => durations.observe(seconds),
      checkGateway: (address) => this.cluster.link(address)?.current?.checkAlive(),
    });
    this.cluster.on('gateway-down', (address: string) => this.dispatcher.gatewayLost(address));
    this.info = { name: options.name, index: options.workerIndex ?? indexFromName(options.name), gateway: this.gateway, log: options.log };
    this.cluster.on('envelope', (address: string, envelope: Envelope) => {
      if (envelope.event) this.dispatcher.dispatch(address, envelope.event);
      else if (envelope.sessionUpdate) this.dispatcher.sessionUpdated(address, envelope.sessionUpdate);
    });
    this.defineMetrics();
  }

  /** An ack or verdict goes back to the gateway the event came from; one that has gone since is not dialled again. */
  private toGateway(address: string, envelope: Envelope): void {
    const link = this.cluster.link(address);
    if (link) link.send(envelope);
    else this.options.log.debug('gateway gone: answer dropped', { gateway: address, kind: Object.keys(envelope)[0] });
  }

  /** How long stop() may take: past it, the process exits anyway. */
  readonly stopTimeoutMs = DRAIN_CONFIRM_TIMEOUT_MS + FINISH_TIMEOUT_MS + LEAVE_MS;

  /** Ready once started and connected to at least one gateway. */
  get ready(): boolean {
    return this.started && this.cluster.connectedCount() > 0;
  }

  async start(): Promise<void> {
    await this.options.handler.onWorkerStart?.(this.info);
    this.cluster.start();
    this.started = true;
    this.options.log.info('ready', { logEvent: 'ready', register: this.options.registerAddress });
  }

  /**
   * Drains, then stops: asks every gateway for no new events and waits for each to confirm, handles what it
   * already has (its handlers may still call the Gateway API: the connections stay up meanwhile), then leaves.
   */
  async stop(): Promise<void> {
    await this.drainGateways(DRAIN_CONFIRM_TIMEOUT_MS);
    await this.dispatcher.idle(FINISH_TIMEOUT_MS);
    this.dispatcher.flushAcks();
    this.cluster.stop();
    this.dispatcher.stop();
    try {
      await this.options.handler.onWorkerStop?.(this.info);
    } catch (error) {
      this.options.log.error('onWorkerStop threw', { error });
    }
  }

  private async drainGateways(timeoutMs: number): Promise<void> {
    const waiting = new Set(this.cluster.targets().filter((address) => this.cluster.link(address)?.ready));
    if (waiting.size === 0) return;
    let lost = 0;
    const confirmed = new Promise<void>((resolve) => {
      const done = () => {
        this.cluster.off('envelope', onEnvelope);
        this.cluster.off('gateway-down', onDown);
        resolve();
      };
      const onEnvelope = (address: string, envelope: Envelope) => {
        if (envelope.drain && waiting.delete(address) && waiting.size === 0) done();
      };
      // A gateway that went away (stopping too, say) sends this worker nothing more: there is nothing to wait for.
      const onDown = (address: string) => {
        if (!waiting.delete(address)) return;
        lost++;
        if (waiting.size === 0) done();
      };
      this.cluster.on('envelope', onEnvelope);
      this.cluster.on('gateway-down', onDown);
      setTimeout(done, timeoutMs).unref();
    });
    for (const address of waiting) this.cluster.link(address)?.send({ drain: {} });
    await confirmed;
    if (waiting.size > 0) this.options.log.warn('gateways did not confirm the drain', { gateways: [...waiting] });
    this.options.log.info('drained', { logEvent: 'drained', inFlight: this.dispatcher.inFlight, gatewaysGone: lost });
  }

  private defineMetrics(): void {
    const { registry, dispatcher, cluster } = this;
    const stats = dispatcher.stats;
    new FastCounter('gwc_worker_events_handled_total', 'Client events handled', registry, () => stats.handled);
    new FastCounter('gwc_worker_handler_errors_total', 'Handler callbacks that threw', registry, () => stats.failed);
    new FastCounter('gwc_worker_slow_events_total', 'Handler callbacks that ran past processTimeout', registry, () => stats.slow);
    new FastCounter('gwc_worker_events_dropped_total', 'Events dropped because their gateway\'s connection was lost (it redelivers them to other workers)', registry, () => stats.dropped);
    new FastCounter('gwc_worker_events_abandoned_total', 'Events given up after abandonTimeout (their callbacks never returned in time)', registry, () => stats.abandoned);
    new Gauge({ name: 'gwc_worker_gateways', help: 'Gateways connected', registers: [registry], collect() { this.set(cluster.connectedCount()); } });
    new Gauge({ name: 'gwc_worker_events_in_flight', help: 'Events queued or running', registers: [registry], collect() { this.set(dispatcher.inFlight); } });
  }
}

/** The number a name ends in (`chat-worker-2`: 2), else 0. */
export function indexFromName(name: string): number {
  const match = /(\d+)$/.exec(name);
  return match ? Number(match[1]) : 0;
}
