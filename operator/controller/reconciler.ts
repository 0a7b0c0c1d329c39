import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { MIN_SECRET_LENGTH } from '../../runtime/config/settings.js';
import type { Logger } from '../../runtime/observability/log.js';
import {
  apiUrl,
  childNames,
  clientAddress,
  desiredChildren,
  GENERATED_API_KEY_KEY,
  GENERATED_SECRET_KEY,
  generatedApiKeySecret,
  generatedGatewayWorkerSecret,
  generatedSecret,
  MANAGED_BY,
  registerAddress,
  selectorFor,
  type GatewayClusterObject,
} from '../builders/desired-children.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/kube-client.js';
import { collectionPath, objectPath, RESOURCE_TYPES, typeOf } from '../kube/resource-paths.js';
import { gatewayClusterSpec, type GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { GatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import { OPTIONAL_CHILD_KINDS, type ChildInformers } from './child-kinds.js';
import { clusterStatus, roleState } from './cluster-status.js';
import type { ConditionInput } from './conditions.js';
import { firstDifference } from './contains.js';
import type { EventRecorder } from './event-recorder.js';
import type { Informer } from './informer.js';
import { privilegedPodSettings, privilegeRefusal } from './pod-privileges.js';
import { NODE_LOSS_CONDITION, type NodeLossHealer, type NodeLossOutcome } from './node-loss-healer.js';
import { podProblems } from './pod-problems.js';
import { tlsSecretProblems } from './tls-secrets.js';
import type { Outcome } from './work-queue.js';

export const PAUSED_ANNOTATION = 'gatewaycluster.dev/paused';
export const MANAGED_BY_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
/** How often a cluster with a problem that no watched object will announce (a missing Secret) is looked at again. */
export const PROBLEM_RECHECK_MS = 15_000;
const NODES_NOT_WATCHED: ConditionInput = {
  type: NODE_LOSS_CONDITION,
  status: 'Unknown',
  reason: 'NodesNotWatched',
  message: 'this operator does not watch Nodes (--heal-node-loss=false): pods on a lost node stay until someone deletes them',
};


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

interface SecretCheck {
  name: string;
  key: string;
  problem?: string;
}

/** Brings one GatewayCluster's children to what its spec asks for, then writes its status. */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<Outcome> {
    const [namespace, name] = key.split('/') as [string, string];
    const cluster = this.deps.clusters.get(namespace, name);
    if (!cluster || cluster.metadata.deletionTimestamp) {
      this.deps.nodeLoss?.forget(key);
      return; // children go with it (owner references)
    }

    const parsed = gatewayClusterSpec.safeParse(cluster.spec ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`).join('; ');
      await this.deps.events.record(cluster, 'Warning', 'InvalidSpec', message);
      await this.writeStatus(cluster, undefined, [`invalid spec: ${message}`]);
      return;
    }
    const spec = parsed.data;
    const object: GatewayClusterObject = { ...(cluster as unknown as GatewayClusterObject), spec };
    const paused = spec.paused || cluster.metadata.annotations?.[PAUSED_ANNOTATION] === 'true';
    const problems: string[] = [];
    // A spec whose pods would be privileged, unless the installer allows that, changes nothing: not even a Secret is made.
    const privileged = this.deps.allowPrivilegedPods ? [] : privilegedPodSettings(spec);
    if (privileged.length > 0) problems.push(privilegeRefusal(privileged));
    const handsOff = paused || privileged.length > 0;

    const secret = await this.checkSecret(cluster, object, handsOff);
    if (secret.problem) problems.push(secret.problem);
    const apiKey = await this.checkApiKeySecret(cluster, object, handsOff);
    if (apiKey?.problem) problems.push(apiKey.problem);
    const gatewayWorker = await this.checkGatewayWorkerSecret(cluster, object, handsOff);
    if (gatewayWorker?.problem) problems.push(gatewayWorker.problem);
    const handlerProblem = await this.checkHandlerConfigMap(namespace, spec);
    if (handlerProblem) problems.push(handlerProblem);
    problems.push(...(await tlsSecretProblems(this.deps.client, namespace, spec)));

    if (!paused && problems.length === 0) {
      const desired = desiredChildren(object, {
        secretName: secret.name,
        secretKey: secret.key,
        apiKeySecretName: apiKey?.name ?? '',
        apiKeySecretKey: apiKey?.key ?? '',
        gatewayWorkerSecretName: gatewayWorker?.name,
        gatewayWorkerSecretKey: gatewayWorker?.key,
        defaultImage: this.deps.operandImage,
        liveGatewayReplicas: (this.deps.children.StatefulSet.get(namespace, childNames(name).gateway)?.spec as { replicas?: number } | undefined)?.replicas,
        serviceMonitorAvailable: this.deps.children.ServiceMonitor !== undefined,
      });
      for (const child of desired) {
        const problem = await this.applyChild(cluster, child as KubeObject);
        if (problem) problems.push(problem);
      }
      problems.push(...(await this.pruneOptionalChildren(cluster, desired as KubeObject[])));
    }
    problems.push(...podProblems(this.podsOf(namespace, name)));
    const nodeLoss = await this.healNodeLoss(cluster, spec, paused);
    problems.push(...nodeLoss.problems);
    for (const problem of problems) {
      if (!this.reported(cluster, problem)) await this.deps.events.record(cluster, 'Warning', 'Degraded', problem);
    }
    await this.writeStatus(cluster, { spec, secretName: secret.name, paused }, problems, nodeLoss.condition);
    const recheck = [problems.length > 0 ? PROBLEM_RECHECK_MS : Infinity, nodeLoss.requeueAfterMs ?? Infinity];
    return Number.isFinite(Math.min(...recheck)) ? { requeueAfterMs: Math.min(...recheck) } : undefined;
  }

  private healNodeLoss(cluster: KubeObject, spec: GatewayClusterSpec, paused: boolean): Promise<NodeLossOutcome> {
    if (!this.deps.nodeLoss) return Promise.resolve({ problems: [], condition: NODES_NOT_WATCHED });
    const { namespace, name } = cluster.metadata;
    const pods = this.podsOf(namespace!, name).filter((pod) => this.madeByWorkload(pod, name));
    return this.deps.nodeLoss.heal({ cluster, pods, timeoutSeconds: spec.nodeLossTimeout, paused });
  }

  /**
   * Made by one of the cluster's own workloads: its gateway or worker StatefulSet (by uid), or a ReplicaSet of its
   * Register or HTTP API Deployment. Labels alone could be copied onto any pod.
   */
  private madeByWorkload(pod: KubeObject, cluster: string): boolean {
    const names = childNames(cluster);
    const namespace = pod.metadata.namespace!;
    const owner = pod.metadata.ownerReferences?.find((ref) => ref.controller);
    if (owner?.kind === 'StatefulSet') {
      return [names.gateway, names.worker].some((sts) => this.deps.children.StatefulSet.get(namespace, sts)?.metadata.uid === owner.uid);
    }
    const hash = pod.metadata.labels?.['pod-template-hash'];
    return owner?.kind === 'ReplicaSet' && hash !== undefined && [names.register, names.api].some((deployment) => owner.name === `${deployment}-${hash}`);
  }

  /** A problem already in the Degraded condition was announced by an event when it first appeared. */
  private reported(cluster: KubeObject, problem: string): boolean {
    const status = cluster.status as GatewayClusterStatus | undefined;
    const degraded = status?.conditions?.find((c) => c.type === 'Degraded');
    return degraded?.status === 'True' && degraded.message.split('; ').includes(problem);
  }

  /** The shared secret: spec.secretRef, checked, or the generated `<name>-secret`, made once. */
  private checkSecret(cluster: KubeObject, object: GatewayClusterObject, paused: boolean): Promise<SecretCheck> {
    return this.checkSecretRef(cluster, paused, object.spec.secretRef, 'spec.secretRef', {
      name: childNames(cluster.metadata.name).secret,
      key: GENERATED_SECRET_KEY,
      what: 'a generated shared secret',
      make: () => generatedSecret(object, randomBytes(32).toString('hex')),
    });
  }

  /** The HTTP API's keys: spec.api.keySecretRef, checked, or the generated `<name>-api-key`, made once. */
  private checkApiKeySecret(cluster: KubeObject, object: GatewayClusterObject, paused: boolean): Promise<SecretCheck | undefined> {
    if (!object.spec.api.enabled) return Promise.resolve(undefined);
    return this.checkSecretRef(cluster, paused, object.spec.api.keySecretRef, 'spec.api.keySecretRef', {
      name: childNames(cluster.metadata.name).apiKeySecret,
      key: GENERATED_API_KEY_KEY,
      what: 'a generated API key',
      make: () => generatedApiKeySecret(object, randomBytes(24).toString('base64url')),
    });
  }

  /** GatewayClient's $secretKey: spec.gatewayWorkerCompat.secretRef, checked, or the generated `<name>-gatewayworker-secret`. */
  private checkGatewayWorkerSecret(cluster: KubeObject, object: GatewayClusterObject, paused: boolean): Promise<SecretCheck | undefined> {
    const compat = object.spec.gatewayWorkerCompat;
    if (!compat.enabled) return Promise.resolve(undefined);
    return this.checkSecretRef(cluster, paused, compat.secretRef, 'spec.gatewayWorkerCompat.secretRef', {
      name: childNames(cluster.metadata.name).gatewayWorkerSecret,
      key: GENERATED_SECRET_KEY,
      what: 'a generated GatewayWorker compat secret',
      // Hex: GatewayClient writes its secret into JSON unescaped.
      make: () => generatedGatewayWorkerSecret(object, randomBytes(24).toString('hex')),
    });
  }

  private async checkSecretRef(
    cluster: KubeObject,
    paused: boolean,
    ref: { name: string; key: string } | undefined,
    field: string,
    generated: { name: string; key: string; what: string; make(): KubeObject },
  ): Promise<SecretCheck> {
    const namespace = cluster.metadata.namespace!;
    if (ref) {
      const { name, key } = ref;
      let secret: KubeObject;
      try {
        secret = await this.deps.client.get(objectPath(RESOURCE_TYPES.Secret, namespace, name));
      } catch (error) {
        if (isNotFound(error)) return { name, key, problem: `Secret ${name} (${field}) not found` };
        throw error;
      }
      const value = (secret.data as Record<string, string> | undefined)?.[key];
      if (value === undefined) return { name, key, problem: `Secret ${name} has no key ${key} (${field}.key)` };
      if (Buffer.from(value, 'base64').toString('utf8').trim().length < MIN_SECRET_LENGTH) {
        return { name, key, problem: `Secret ${name} key ${key} is shorter than ${MIN_SECRET_LENGTH} bytes` };
      }
      return { name, key };
    }
    const { name, key } = generated;
    // Read by name, not watched: the operator may not list or watch Secrets (see the chart's RBAC).
    if (paused || (await this.exists(objectPath(RESOURCE_TYPES.Secret, namespace, name)))) return { name, key };
    try {
      await this.deps.client.create(collectionPath(RESOURCE_TYPES.Secret, namespace), generated.make());
      await this.deps.events.record(cluster, 'Normal', 'Created', `created Secret ${name} with ${generated.what}`);
    } catch (error) {
      if (!isConflict(error)) throw error; // it exists: our cache is behind
    }
    return { name, key };
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await this.deps.client.get(path);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private async checkHandlerConfigMap(namespace: string, spec: GatewayClusterSpec): Promise<string | undefined> {
    const ref = spec.worker.handler.configMap;
    if (!ref) return undefined;
    try {
      const configMap = await this.deps.client.get(objectPath(RESOURCE_TYPES.ConfigMap, namespace, ref.name));
      if ((configMap.data as Record<string, string> | undefined)?.[ref.key] === undefined) {
        return `ConfigMap ${ref.name} has no key ${ref.key} (spec.worker.handler.configMap.key)`;
      }
      return undefined;
    } catch (error) {
      if (isNotFound(error)) return `ConfigMap ${ref.name} (spec.worker.handler.configMap) not found`;
      throw error;
    }
  }

  /** Applies one child unless what we would send is already there; returns a problem line on failure. */
  private async applyChild(cluster: KubeObject, child: KubeObject): Promise<string | undefined> {
    const type = typeOf(child.apiVersion, child.kind);
    const informer = this.deps.children[child.kind as keyof ChildInformers];
    const live = informer?.get(child.metadata.namespace!, child.metadata.name);
    const difference = live ? firstDifference(live, child) : 'new';
    if (difference === undefined) return undefined;
    this.deps.log.debug('applying', { kind: child.kind, name: child.metadata.name, because: difference });
    try {
      await this.deps.client.apply(objectPath(type, child.metadata.namespace!, child.metadata.name), child);
      await this.deps.events.record(cluster, 'Normal', live ? 'Updated' : 'Created', `${live ? 'updated' : 'created'} ${child.kind} ${child.metadata.name}`);
      return undefined;
    } catch (error) {
      const message = `could not apply ${child.kind} ${child.metadata.name}: ${(error as Error).message}`;
      this.deps.log.warn('apply failed', { cluster: cluster.metadata.name, kind: child.kind, name: child.metadata.name, error: (error as Error).message });
      return message;
    }
  }

  /**
   * Deletes children that only exist for some specs (a PodDisruptionBudget above one replica, a ServiceMonitor when
   * asked, the NetworkPolicy and the HTTP API unless turned off, the gateways' autoscaler) once the spec no longer wants them. The register,
   * gateway and worker workloads and Services, and the Secrets, are never deleted here.
   */
  private async pruneOptionalChildren(cluster: KubeObject, desired: KubeObject[]): Promise<string[]> {
    const problems: string[] = [];
    const wanted = new Set(desired.map((child) => `${child.kind}/${child.metadata.name}`));
    const api = childNames(cluster.metadata.name).api;
    const optional = (kind: keyof ChildInformers, name: string) => (kind === 'Deployment' || kind === 'Service' ? name === api : true);
    for (const kind of OPTIONAL_CHILD_KINDS) {
      const informer = this.deps.children[kind];
      if (!informer) continue;
      for (const live of informer.items()) {
        const owned = live.metadata.ownerReferences?.some((ref) => ref.uid === cluster.metadata.uid && ref.controller);
        if (!owned || live.metadata.namespace !== cluster.metadata.namespace || !optional(kind, live.metadata.name)) continue;
        if (wanted.has(`${kind}/${live.metadata.name}`)) continue;
        try {
          await this.deps.client.delete(objectPath(typeOf(live.apiVersion, live.kind), live.metadata.namespace!, live.metadata.name));
          await this.deps.events.record(cluster, 'Normal', 'Deleted', `deleted ${kind} ${live.metadata.name}: the spec no longer asks for it`);
        } catch (error) {
          if (!isNotFound(error)) problems.push(`could not delete ${kind} ${live.metadata.name}: ${(error as Error).message}`);
        }
      }
    }
    return problems;
  }

  private podsOf(namespace: string, name: string): KubeObject[] {
    return this.deps.children.Pod.items().filter(
      (pod) => pod.metadata.namespace === namespace && pod.metadata.labels?.['app.kubernetes.io/instance'] === name,
    );
  }

  private async writeStatus(
    cluster: KubeObject,
    state: { spec: GatewayClusterSpec; secretName: string; paused: boolean } | undefined,
    problems: string[],
    nodeLoss = this.deps.nodeLoss ? undefined : NODES_NOT_WATCHED,
  ): Promise<void> {
    const namespace = cluster.metadata.namespace!;
    const name = cluster.metadata.name;
    const names = childNames(name);
    const { Deployment, StatefulSet } = this.deps.children;
    const previous = cluster.status as GatewayClusterStatus | undefined;
    const spec = state?.spec;
    const object = spec ? ({ ...(cluster as unknown as GatewayClusterObject), spec } as GatewayClusterObject) : undefined;
    const status = clusterStatus({
      generation: cluster.metadata.generation,
      previous,
      register: roleState(Deployment.get(namespace, names.register), 1),
      gateways: roleState(StatefulSet.get(namespace, names.gateway), spec?.gateway.replicas ?? 0),
      workers: roleState(StatefulSet.get(namespace, names.worker), spec?.worker.replicas ?? 0),
      api: spec?.api.enabled ? roleState(Deployment.get(namespace, names.api), spec.api.replicas) : undefined,
      apiUrl: object?.spec.api.enabled ? apiUrl(object) : undefined,
      workerSelector: selectorFor(name, 'worker'),
      address: object ? clientAddress(object) : '',
      registerAddress: object ? registerAddress(object) : '',
      secretName: state?.secretName ?? '',
      paused: state?.paused ?? false,
      problems,
      nodeLoss,
      now: new Date().toISOString(),
    });
    if (isDeepStrictEqual(stripUndefined(status), stripUndefined(previous ?? {}))) return;
    // A merge patch keeps what it does not name: null removes the API's fields once it is turned off.
    const patch = { ...status, api: status.api ?? null, apiUrl: status.apiUrl ?? null };
    await this.deps.client.request('PATCH', `${objectPath(RESOURCE_TYPES.GatewayCluster, namespace, name)}/status`, { status: patch }, 'application/merge-patch+json');
  }
}


function stripUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}
