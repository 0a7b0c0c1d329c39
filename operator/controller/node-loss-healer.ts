import type { Counter } from 'prom-client';
import type { Logger } from '../../runtime/observability/log.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/kube-client.js';
import { objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';
import type { ConditionInput } from './conditions.js';
import type { EventRecorder } from './event-recorder.js';
import type { Informer } from './informer.js';
import type { LostNodes, NodeLoss } from './lost-nodes.js';
import type { Problem } from './problems.js';

export const NODE_LOSS_CONDITION = 'NodeLoss';
/** The NodeLoss condition of an operator that does not watch Nodes, so heals nothing. */
export const NODES_NOT_WATCHED: ConditionInput = {
  type: NODE_LOSS_CONDITION,
  status: 'Unknown',
  reason: 'NodesNotWatched',
  message: 'this operator does not watch Nodes (--heal-node-loss=false): pods on a lost node stay until someone deletes them',
};
/** Looked at again this long after a pod's deadline, so that the clock has surely passed it. */
const DEADLINE_SLACK_MS = 50;

export interface NodeLossDeps {
  client: KubeClient;
  lostNodes: LostNodes;
  /** The Node cache: what `lostNodes` was told, and which nodes exist. */
  nodes: Informer;
  events: EventRecorder;
  forceDeleted: Counter<'reason' | 'component'>;
  log: Logger;
}

export interface NodeLossInput {
  cluster: KubeObject;
  /** The cluster's pods that its own StatefulSets and ReplicaSets made. */
  pods: KubeObject[];
  timeoutSeconds: number;
  paused: boolean;
}

export interface NodeLossOutcome {
  /** The NodeLoss condition; undefined when there is nothing new to say (the last one stands). */
  condition?: ConditionInput;
  /** For Degraded: pods that stay on a lost node until someone acts. */
  problems: Problem[];
  /** When the next pod's deadline comes. */
  requeueAfterMs?: number;
}

/**
 * What was last said about one cluster. Kept here rather than read back from its status, which the cache may not
 * show yet right after this process wrote it.
 */
interface Said {
  /** The message of the last NodeLost event. */
  announced?: string;
  /** What the last force-deletion replaced, while no pod is on a lost node. */
  replaced?: string;
}

interface Stuck {
  pod: KubeObject;
  loss: NodeLoss;
}

const nodeOf = (pod: KubeObject) => (pod.spec as { nodeName?: string } | undefined)?.nodeName;
const seconds = (ms: number) => Math.round(ms / 1000);

/**
 * Deletes with grace period 0 a cluster's pods that sit on a node lost (not Ready, or gone) for longer than
 * spec.nodeLossTimeout, so their StatefulSet or ReplicaSet starts them on another node: Kubernetes never replaces a
 * StatefulSet pod whose kubelet cannot confirm it stopped. Right before deleting, the node is read again from the
 * API server: a node that is Ready there keeps its pods, whatever the cache said.
 */
export class NodeLossHealer {
  private readonly said = new Map<string, Said>();

  constructor(private readonly deps: NodeLossDeps) {}

  /** The cluster `namespace/name` is gone. */
  forget(key: string): void {
    this.said.delete(key);
  }

  async heal(input: NodeLossInput): Promise<NodeLossOutcome> {
    const timeoutMs = input.timeoutSeconds * 1000;
    const key = `${input.cluster.metadata.namespace}/${input.cluster.metadata.name}`;
    const said = this.said.get(key) ?? {};
    this.said.set(key, said);
    const stuck = this.stuckPods(input.pods);
    if (stuck.length === 0) {
      said.announced = undefined;
      return { problems: [], ...(said.replaced ? { condition: replacedCondition(said.replaced) } : {}) };
    }
    said.replaced = undefined;
    if (input.timeoutSeconds === 0 || input.paused) {
      const why = input.paused ? 'the cluster is paused' : 'spec.nodeLossTimeout is 0';
      const message = `${describe(stuck)}: they stay until deleted by hand (kubectl delete pod --force --grace-period=0), as ${why}`;
      const problems: Problem[] = input.paused
        ? []
        : groups(stuck).map(([node, group]) => ({
            reason: 'PodsOnLostNode',
            message: `${names(group)} on lost node ${node} (${group[0]!.loss.reason}), not replaced: spec.nodeLossTimeout is 0`,
          }));
      return { condition: await this.lostCondition(input.cluster, said, input.paused ? 'Paused' : 'HealingOff', message), problems };
    }

    /** Pods deleted now, or found gone already (the cache not there yet): not left on the node either way. */
    const handled = new Set<string>();
    const replaced: string[] = [];
    for (const [node, group] of groups(stuck.filter((s) => s.loss.lostMs >= timeoutMs))) {
      const loss = this.deps.lostNodes.confirm(node, await this.currentNode(node));
      if (!loss || loss.lostMs < timeoutMs) continue;
      const gone: KubeObject[] = [];
      for (const { pod } of group) {
        if (await this.forceDelete(pod, node, loss)) gone.push(pod);
        handled.add(pod.metadata.uid ?? '');
      }
      if (gone.length === 0) continue;
      const what = `${gone.map((pod) => pod.metadata.name).sort().join(', ')} from node ${node}, lost (${loss.reason}) for ${seconds(loss.lostMs)} s`;
      replaced.push(what);
      await this.deps.events.record(
        input.cluster,
        'Warning',
        'PodsForceDeleted',
        `force-deleted ${what} (spec.nodeLossTimeout ${input.timeoutSeconds} s): their StatefulSets and ReplicaSets start them again on other nodes`,
      );
    }

    const left = this.stuckPods(input.pods).filter((s) => !handled.has(s.pod.metadata.uid ?? ''));
    if (left.length > 0) {
      const message = `${describe(left)}: force-deleted ${input.timeoutSeconds} s after that (spec.nodeLossTimeout) unless the node is Ready again`;
      const next = Math.min(...left.map((s) => timeoutMs - s.loss.lostMs));
      return { condition: await this.lostCondition(input.cluster, said, 'NodeLost', message), problems: [], requeueAfterMs: Math.max(0, next) + DEADLINE_SLACK_MS };
    }
    said.announced = undefined;
    if (replaced.length === 0) return { problems: [] };
    said.replaced = `force-deleted ${replaced.join('; ')}`;
    return { condition: replacedCondition(said.replaced), problems: [] };
  }

  /** The cluster's pods on a lost node, as the caches and this process's clock see them now. */
  private stuckPods(pods: KubeObject[]): Stuck[] {
    const stuck: Stuck[] = [];
    for (const pod of pods) {
      const node = nodeOf(pod);
      if (!node) continue;
      const loss = this.deps.lostNodes.lost(node, this.deps.nodes.get('', node));
      if (loss) stuck.push({ pod, loss });
    }
    return stuck;
  }

  /** A True NodeLoss condition, announced by a Warning event when it says something new. */
  private async lostCondition(cluster: KubeObject, said: Said, reason: string, message: string): Promise<ConditionInput> {
    if (said.announced !== message) await this.deps.events.record(cluster, 'Warning', 'NodeLost', message);
    said.announced = message;
    return { type: NODE_LOSS_CONDITION, status: 'True', reason, message };
  }

  private async currentNode(name: string): Promise<KubeObject | undefined> {
    try {
      return await this.deps.client.get(objectPath(RESOURCE_TYPES.Node, '', name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Deletes exactly this pod (its uid), not a replacement of the same name; false when it is gone already. */
  private async forceDelete(pod: KubeObject, node: string, loss: NodeLoss): Promise<boolean> {
    const { name, namespace, uid } = pod.metadata;
    try {
      await this.deps.client.request('DELETE', objectPath(RESOURCE_TYPES.Pod, namespace!, name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return false;
      throw error;
    }
    const component = pod.metadata.labels?.['app.kubernetes.io/component'] ?? '';
    this.deps.forceDeleted.inc({ reason: loss.reason, component });
    this.deps.log.warn('force-deleted a pod on a lost node', { pod: `${namespace}/${name}`, node, reason: loss.reason, lostSeconds: seconds(loss.lostMs) });
    await this.deps.events.record(
      pod,
      'Warning',
      'ForceDeleted',
      `node ${node} lost (${loss.reason}) for ${seconds(loss.lostMs)} s: deleted with grace period 0 by the gateway-cluster operator, to start again on another node`,
    );
    return true;
  }
}

function replacedCondition(message: string): ConditionInput {
  return { type: NODE_LOSS_CONDITION, status: 'False', reason: 'PodsReplaced', message };
}

function groups(stuck: Stuck[]): Array<[string, Stuck[]]> {
  const byNode = new Map<string, Stuck[]>();
  for (const s of stuck) {
    const node = nodeOf(s.pod)!;
    byNode.set(node, [...(byNode.get(node) ?? []), s]);
  }
  return [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const names = (group: Stuck[]) => group.map((s) => s.pod.metadata.name).sort().join(', ');

/** "a, b on node n2, lost (NodeUnreachable) since <time>; c on node n3, ..." */
function describe(stuck: Stuck[]): string {
  return groups(stuck).map(([node, group]) => `${names(group)} on node ${node}, lost (${group[0]!.loss.reason}) since ${group[0]!.loss.since}`).join('; ');
}
