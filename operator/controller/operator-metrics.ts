import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the operator: reconciles, their durations and errors, queue depth, informer restarts, pods replaced after a node loss. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'gwc_operator_reconciles_total', help: 'Reconciles run, by result: ok; error (retried with backoff); terminal (an invalid spec, not retried until the cluster changes)', labelNames: ['result'], registers: [this.registry] });
  readonly duration = new Histogram({
    name: 'gwc_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconcile',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({ name: 'gwc_operator_informer_restarts_total', help: 'Watches restarted after a failure', labelNames: ['kind'], registers: [this.registry] });
  readonly podsForceDeleted = new Counter({
    name: 'gwc_operator_pods_force_deleted_total',
    help: 'Pods deleted with grace period 0 because their node was lost (not Ready or gone) for longer than spec.nodeLossTimeout',
    labelNames: ['reason', 'component'],
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({ name: 'gwc_operator_leader', help: '1 while this process holds the leader lease', registers: [this.registry] });

  constructor(queueDepth: () => number, apiWrites: () => number) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'gwc_operator_queue_depth', help: 'Keys waiting or being reconciled', registers: [this.registry], collect() { this.set(queueDepth()); } });
    new Gauge({ name: 'gwc_operator_api_writes', help: 'Requests that changed something in the API server', registers: [this.registry], collect() { this.set(apiWrites()); } });
  }
}
