/** The BusinessWorkers: a StatefulSet (its replicas are the scale subresource) and a headless Service. */
import { METRICS_PORTS } from './addresses.js';
import type { BuildContext, GatewayClusterObject, KubeObject } from './cluster-object.js';
import { childNames } from './names.js';
import { headlessService, namedPort } from './service.js';
import { roleStatefulSet } from './stateful-set.js';

export function workerStatefulSet(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject {
  const names = childNames(cluster.metadata.name);
  return roleStatefulSet(cluster, ctx, 'worker', { statefulSet: names.worker, headlessService: names.workerHeadless });
}

export function workerHeadlessService(cluster: GatewayClusterObject): KubeObject {
  return headlessService(cluster, childNames(cluster.metadata.name).workerHeadless, 'worker', [namedPort('metrics', METRICS_PORTS.worker)]);
}

export function workerChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return [workerHeadlessService(cluster), workerStatefulSet(cluster, ctx)];
}
