/** Every child object a GatewayCluster should have, as pure functions of its spec (the Secret is made once elsewhere). */
import type { BuildContext, GatewayClusterObject, KubeObject } from './cluster-object.js';
import { disruptionBudgets } from './disruption-budgets.js';
import { serviceMonitors } from './service-monitor.js';
import { gatewayClientService, gatewayHeadlessService, registerService, workerHeadlessService } from './services.js';
import { gatewayStatefulSet, registerDeployment, workerStatefulSet } from './workloads.js';

export { clientAddress, registerAddress, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
export { labelsFor, selectorFor } from './labels.js';
export { childNames } from './names.js';

export function desiredChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return [
    registerService(cluster),
    registerDeployment(cluster, ctx),
    gatewayHeadlessService(cluster),
    gatewayClientService(cluster),
    gatewayStatefulSet(cluster, ctx),
    workerHeadlessService(cluster),
    workerStatefulSet(cluster, ctx),
    ...disruptionBudgets(cluster),
    ...serviceMonitors(cluster, ctx),
  ];
}
