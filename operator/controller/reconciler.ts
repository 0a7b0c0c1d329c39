import type { Logger } from '../../runtime/observability/log.js';
import { childNames, desiredChildren, type BuildContext } from '../builders/desired-children.js';
import type { KubeClient, KubeObject } from '../kube/kube-client.js';
import type { ChildInformers } from './child-kinds.js';
import { applyChildren } from './apply.js';
import { clusterPods, madeByWorkload } from './cluster-pods.js';
import type { EventRecorder } from './event-recorder.js';
import type { Informer } from './informer.js';
import { NODES_NOT_WATCHED, type NodeLossHealer, type NodeLossOutcome } from './node-loss-healer.js';
import { podProblems } from './pod-problems.js';
import { privilegeProblems } from './pod-privileges.js';
import { ProblemEvents } from './problem-events.js';
import type { Problem } from './problems.js';
import { pruneChildren } from './prune.js';
import { referenceProblems } from './references.js';
import { ensureSecrets, type SecretsInUse } from './secrets.js';
import { parseKey, validateCluster, type ValidCluster } from './spec-validation.js';
import { writeStatus, type Observed } from './status-writer.js';
import { TerminalError } from './terminal-error.js';
import type { Outcome } from './work-queue.js';

/** How often a cluster with a problem that no watched object will announce (a missing Secret) is looked at again. */
export const PROBLEM_RECHECK_MS = 15_000;

export interface ReconcilerDeps {
  client: KubeClient;
  clusters: Informer;
  children: ChildInformers;
  events: EventRecorder;
  log: Logger;
  /** Image of clusters whose spec.image is unset. */
  operandImage: string;
  /** Whether a spec may give its pods privilege (see pod-privileges.ts); when not, such a cluster is left as it was. */
  allowPrivilegedPods: boolean;
  /** Replaces pods stuck on lost nodes; unset when the operator does not watch Nodes. */
  nodeLoss?: NodeLossHealer;
}

/**
 * Brings one GatewayCluster's children to what its spec asks for, then writes its status, in controller-runtime's
 * shape: the children come from pure builders (desiredChildren) and are written by one apply path; whatever keeps the
 * cluster from getting there is a Problem, announced by an event and written in the status, last.
 */
export class Reconciler {
  private readonly problemEvents: ProblemEvents;

  constructor(private readonly deps: ReconcilerDeps) {
    this.problemEvents = new ProblemEvents(deps.events);
  }

  async reconcile(key: string): Promise<Outcome> {
    const { namespace, name } = parseKey(key);
    const cluster = this.deps.clusters.get(namespace, name);
    if (!cluster || cluster.metadata.deletionTimestamp) {
      this.deps.nodeLoss?.forget(key);
      this.problemEvents.forget(key);
      return; // children go with it (owner references)
    }
    const valid = validateCluster(cluster);
    if ('invalid' in valid) {
      await this.report(cluster, undefined, [valid.invalid], this.deps.nodeLoss ? undefined : NODES_NOT_WATCHED);
      throw new TerminalError(valid.invalid.message);
    }
    const { object, paused } = valid;

    // A spec whose pods would be privileged, unless the installer allows that, changes nothing: not even a Secret is made.
    const problems = privilegeProblems(object.spec, this.deps.allowPrivilegedPods);
    const secrets = await ensureSecrets(this.deps, object, !paused && problems.length === 0);
    problems.push(...secrets.problems, ...(await referenceProblems(this.deps.client, namespace, object.spec)));
    if (!paused && problems.length === 0) {
      const desired = desiredChildren(object, this.buildContext(valid, secrets.inUse));
      problems.push(...(await applyChildren(this.deps, cluster, desired)), ...(await pruneChildren(this.deps, cluster, desired)));
    }
    const pods = clusterPods(this.deps.children, namespace, name);
    problems.push(...podProblems(pods));
    const nodeLoss = await this.healNodeLoss(cluster, valid, pods);
    problems.push(...nodeLoss.problems);

    await this.report(cluster, { object, secretName: secrets.inUse.shared?.name ?? '', paused }, problems, nodeLoss.condition);
    const recheckMs = Math.min(problems.length > 0 ? PROBLEM_RECHECK_MS : Infinity, nodeLoss.requeueAfterMs ?? Infinity);
    return Number.isFinite(recheckMs) ? { requeueAfterMs: recheckMs } : undefined;
  }

  private buildContext({ object }: ValidCluster, secrets: SecretsInUse): BuildContext {
    const { namespace, name } = object.metadata;
    const gateway = this.deps.children.StatefulSet.get(namespace, childNames(name).gateway);
    return {
      secretName: secrets.shared?.name ?? '',
      secretKey: secrets.shared?.key ?? '',
      apiKeySecretName: secrets.apiKey?.name ?? '',
      apiKeySecretKey: secrets.apiKey?.key ?? '',
      gatewayWorkerSecretName: secrets.gatewayWorker?.name,
      gatewayWorkerSecretKey: secrets.gatewayWorker?.key,
      defaultImage: this.deps.operandImage,
      liveGatewayReplicas: (gateway?.spec as { replicas?: number } | undefined)?.replicas,
      serviceMonitorAvailable: this.deps.children.ServiceMonitor !== undefined,
    };
  }

  private healNodeLoss(cluster: KubeObject, { object, paused }: ValidCluster, pods: KubeObject[]): Promise<NodeLossOutcome> {
    if (!this.deps.nodeLoss) return Promise.resolve({ problems: [], condition: NODES_NOT_WATCHED });
    const own = pods.filter((pod) => madeByWorkload(this.deps.children, pod, cluster.metadata.name));
    return this.deps.nodeLoss.heal({ cluster, pods: own, timeoutSeconds: object.spec.nodeLossTimeout, paused });
  }

  /** Status last: a Warning event for each problem that is new, then the status. */
  private async report(cluster: KubeObject, observed: Observed | undefined, problems: Problem[], nodeLoss: NodeLossOutcome['condition']): Promise<void> {
    await this.problemEvents.announce(cluster, problems);
    await writeStatus(this.deps, cluster, observed, problems, nodeLoss);
  }
}
