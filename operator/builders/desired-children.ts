/**
 * Every child object a GatewayCluster should have, as pure functions of it: the same input gives deep-equal output,
 * the input is never changed, and each object holds only the fields we own (they are server-side-apply bodies).
 * The Secret is not here: the controller creates it once with random data and never applies it again.
 */
import { apiChildren } from './api.js';
import type { BuildContext, GatewayClusterObject, KubeObject } from './cluster-object.js';
import { gatewayChildren } from './gateway.js';
import { gatewayAutoscaler } from './gateway-autoscaler.js';
import { networkPolicies } from './network-policy.js';
import { podDisruptionBudgets } from './pdb.js';
import { registerChildren } from './register.js';
import { serviceMonitors } from './service-monitor.js';
import { workerChildren } from './worker.js';

export { apiUrl, clientAddress, clientServicePort, METRICS_PORTS, registerAddress } from './addresses.js';
export type { BuildContext, ChildMetadata, GatewayClusterObject, KubeObject } from './cluster-object.js';
export { labelsFor, MANAGED_BY, selectorFor, selectorLabels, type Component } from './labels.js';
export { childNames, type ChildNames } from './names.js';
export { generatedApiKeySecret, generatedGatewayWorkerSecret, generatedSecret, GENERATED_API_KEY_KEY, GENERATED_SECRET_KEY } from './secret.js';
export { API_CLIENT_LABEL } from './network-policy.js';

/** Services before the workloads that use them; optional objects last. */
export function desiredChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return [
    ...registerChildren(cluster, ctx),
    ...gatewayChildren(cluster, ctx),
    ...workerChildren(cluster, ctx),
    ...apiChildren(cluster, ctx),
    ...gatewayAutoscaler(cluster),
    ...podDisruptionBudgets(cluster),
    ...networkPolicies(cluster),
    ...serviceMonitors(cluster, ctx),
  ];
}
