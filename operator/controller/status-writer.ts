import { isDeepStrictEqual } from 'node:util';
import { apiUrl, childNames, clientAddress, registerAddress, selectorFor, type GatewayClusterObject } from '../builders/desired-children.js';
import type { KubeClient, KubeObject } from '../kube/kube-client.js';
import { objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';
import type { GatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import type { ChildInformers } from './child-kinds.js';
import { clusterStatus, roleState } from './cluster-status.js';
import type { ConditionInput } from './conditions.js';
import type { Problem } from './problems.js';

export interface StatusDeps {
  client: KubeClient;
  children: ChildInformers;
}

/** What a reconcile of a valid spec found; an invalid spec has none. */
export interface Observed {
  object: GatewayClusterObject;
  secretName: string;
  paused: boolean;
}

/**
 * Writes the cluster's status, last in a reconcile: the roles' readiness from the cached workloads, the problems as
 * the Degraded condition, and `nodeLoss` (undefined: the last NodeLoss condition stands). A status that would not
 * change is not written.
 */
export async function writeStatus(deps: StatusDeps, cluster: KubeObject, observed: Observed | undefined, problems: Problem[], nodeLoss: ConditionInput | undefined): Promise<void> {
  const namespace = cluster.metadata.namespace!;
  const name = cluster.metadata.name;
  const names = childNames(name);
  const { Deployment, StatefulSet } = deps.children;
  const previous = cluster.status as GatewayClusterStatus | undefined;
  const object = observed?.object;
  const spec = object?.spec;
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
    secretName: observed?.secretName ?? '',
    paused: observed?.paused ?? false,
    problems,
    nodeLoss,
    now: new Date().toISOString(),
  });
  if (isDeepStrictEqual(stripUndefined(status), stripUndefined(previous ?? {}))) return;
  // A merge patch keeps what it does not name: null removes the API's fields once it is turned off.
  const patch = { ...status, api: status.api ?? null, apiUrl: status.apiUrl ?? null };
  await deps.client.request('PATCH', `${objectPath(RESOURCE_TYPES.GatewayCluster, namespace, name)}/status`, { status: patch }, 'application/merge-patch+json');
}

function stripUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}
