import type { Logger } from '../../runtime/observability/log.js';
import { KubeApiError, type KubeClient, type KubeObject } from '../kube/kube-client.js';
import { collectionPath, RESOURCE_TYPES, type ResourceType } from '../kube/resource-paths.js';
import { EventRecorder } from './event-recorder.js';
import { Informer, keyOf } from './informer.js';
import { LostNodes } from './lost-nodes.js';
import { NodeLossHealer } from './node-loss-healer.js';
import { OperatorMetrics } from './operator-metrics.js';
import { MANAGED_BY_SELECTOR, SERVICE_MONITOR, WATCHED_CHILD_KINDS, type ChildInformers } from './child-kinds.js';
import { Reconciler } from './reconciler.js';
import { TerminalError } from './terminal-error.js';
import { DEFAULT_OPERAND_IMAGE } from '../builders/container.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  client: KubeClient;
  log: Logger;
  /** Watch one namespace; every namespace when unset. */
  namespace?: string;
  concurrency?: number;
  /** Image of clusters whose spec.image is unset (DEFAULT_OPERAND_IMAGE when not given). */
  operandImage?: string;
  /** Whether a GatewayCluster may give its pods privilege (default false: such a cluster is refused, Degraded). */
  allowPrivilegedPods?: boolean;
  /** Watch Nodes and replace pods stuck on lost ones (true when not given). */
  healNodeLoss?: boolean;
}

/**
 * Informers on GatewayClusters and every child kind feed a keyed work queue of `namespace/name`; the reconciler
 * handles one key at a time per cluster.
 */
export class Controller {
  readonly queue: WorkQueue;
  readonly metrics: OperatorMetrics;
  readonly clusters: Informer;
  readonly children: ChildInformers;
  /** Every Node, when the operator heals node losses. */
  readonly nodes: Informer | undefined;
  private readonly informers: Informer[] = [];

  constructor(private readonly options: ControllerOptions) {
    const { client, log } = options;
    this.metrics = new OperatorMetrics(() => this.queue.depth, () => client.writes);
    this.clusters = this.watch(RESOURCE_TYPES.GatewayCluster);
    this.children = Object.fromEntries(WATCHED_CHILD_KINDS.map((kind) => [kind, this.watch(RESOURCE_TYPES[kind], MANAGED_BY_SELECTOR)])) as ChildInformers;
    const events = new EventRecorder(client, (error) => log.warn('could not record an event', { error: error.message }));
    let nodeLoss: NodeLossHealer | undefined;
    if (options.healNodeLoss ?? true) {
      const lostNodes = new LostNodes();
      this.nodes = this.watch(RESOURCE_TYPES.Node, undefined, { clusterScoped: true });
      this.followNodes(this.nodes, lostNodes);
      nodeLoss = new NodeLossHealer({ client, lostNodes, nodes: this.nodes, events, forceDeleted: this.metrics.podsForceDeleted, log });
    }
    const reconciler = new Reconciler({
      client,
      clusters: this.clusters,
      children: this.children,
      events,
      log,
      operandImage: options.operandImage ?? DEFAULT_OPERAND_IMAGE,
      allowPrivilegedPods: options.allowPrivilegedPods ?? false,
      ...(nodeLoss ? { nodeLoss } : {}),
    });
    this.queue = new WorkQueue(
      async (key) => {
        const stop = this.metrics.duration.startTimer();
        try {
          const outcome = await reconciler.reconcile(key);
          this.metrics.reconciles.inc({ result: 'ok' });
          return outcome;
        } catch (error) {
          if (error instanceof TerminalError) {
            this.metrics.reconciles.inc({ result: 'terminal' });
            log.warn('not reconciled until the cluster changes', { key, error: error.message });
            return;
          }
          this.metrics.reconciles.inc({ result: 'error' });
          throw error;
        } finally {
          stop();
        }
      },
      (key, error, retryInMs) => log.warn('reconcile failed', { key, error: (error as Error).message, retryInMs }),
      { concurrency: options.concurrency ?? 2, held: true },
    );

    for (const event of ['add', 'update', 'delete'] as const) {
      this.clusters.on(event, (cluster: KubeObject) => this.queue.add(keyOf(cluster)));
    }
    for (const informer of Object.values(this.children) as Informer[]) this.enqueueOwners(informer);
  }

  /** An informer of `type` in our namespace(s), its restarts logged and counted. */
  private watch(type: ResourceType, labelSelector?: string, { clusterScoped = false } = {}): Informer {
    const { client, log, namespace } = this.options;
    const informer = new Informer(client, type, {
      ...(namespace && !clusterScoped ? { namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      onError: (error) => {
        this.metrics.informerRestarts.inc({ kind: type.kind });
        log.warn('watch restarting', { kind: type.kind, error: error.message });
      },
    });
    this.informers.push(informer);
    return informer;
  }

  /** A node that turns lost or Ready again: the clusters with pods on it look at them. */
  private followNodes(nodes: Informer, lostNodes: LostNodes): void {
    const podsOn = (node: string) => this.children.Pod.items().filter((pod) => (pod.spec as { nodeName?: string } | undefined)?.nodeName === node);
    const enqueueClustersOn = (node: string) => {
      for (const pod of podsOn(node)) {
        const owner = ownerKey(pod);
        if (owner) this.queue.add(owner);
      }
    };
    for (const event of ['add', 'update'] as const) {
      nodes.on(event, (node: KubeObject) => {
        if (lostNodes.observe(node)) enqueueClustersOn(node.metadata.name);
      });
    }
    nodes.on('delete', (node: KubeObject) => {
      if (lostNodes.removed(node)) enqueueClustersOn(node.metadata.name);
      lostNodes.prune((name) => podsOn(name).length > 0);
    });
  }

  private enqueueOwners(informer: Informer): void {
    for (const event of ['add', 'update', 'delete'] as const) {
      informer.on(event, (child: KubeObject) => {
        const owner = ownerKey(child);
        if (owner) this.queue.add(owner);
      });
    }
  }

  /** Starts watching (and, if its CRD is installed, watches ServiceMonitors too); resolves once every cache is filled. */
  async start(): Promise<void> {
    if (this.nodes) await this.assertNodesReadable();
    if (await this.serviceMonitorsServed()) {
      const informer = this.watch(RESOURCE_TYPES[SERVICE_MONITOR], MANAGED_BY_SELECTOR);
      this.children[SERVICE_MONITOR] = informer;
      this.enqueueOwners(informer);
    }
    const synced = this.informers.map((informer) => new Promise<void>((resolve) => informer.once('synced', () => resolve())));
    for (const informer of this.informers) informer.start();
    await Promise.all(synced);
    // Reconciling before every cache is full would mistake "not seen yet" for "missing" and write needlessly.
    for (const cluster of this.clusters.items()) this.queue.add(keyOf(cluster));
    this.queue.resume();
  }

  stop(): void {
    for (const informer of this.informers) informer.stop();
    this.queue.stop();
  }

  get synced(): boolean {
    return this.informers.every((informer) => informer.synced);
  }

  /** A Node watch that may not list Nodes would retry for ever, and the caches would never fill: say so at once. */
  private async assertNodesReadable(): Promise<void> {
    try {
      await this.options.client.get(`${collectionPath(RESOURCE_TYPES.Node)}?limit=1`);
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 403) {
        throw new Error(`the operator may not list Nodes, which healing a node loss needs: grant get, list and watch on nodes (the chart does with nodeLoss.enabled), or run it with --heal-node-loss=false (${error.message})`);
      }
      throw error;
    }
  }

  /** Whether the API server serves ServiceMonitors; retried while it answers "try later" (a CRD just installed). */
  private async serviceMonitorsServed(): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.client.get(collectionPath(RESOURCE_TYPES.ServiceMonitor, this.options.namespace));
        return true;
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return false;
        const retryable = error instanceof KubeApiError && (error.status === 429 || error.status >= 500);
        if (!retryable || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }
}

/** `namespace/name` of the GatewayCluster a child belongs to: its controller owner, or the instance label (pods). */
function ownerKey(child: KubeObject): string | undefined {
  const namespace = child.metadata.namespace ?? '';
  const owner = child.metadata.ownerReferences?.find((ref) => ref.kind === 'GatewayCluster' && ref.controller);
  if (owner) return `${namespace}/${owner.name}`;
  const instance = child.metadata.labels?.['app.kubernetes.io/instance'];
  return instance ? `${namespace}/${instance}` : undefined;
}
