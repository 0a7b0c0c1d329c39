/**
 * PodDisruptionBudgets: at most one gateway or worker down at a time by a voluntary disruption (a drain). None for a
 * role that can only have a single replica, where it would block every drain.
 */
import { roleMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { childNames } from './names.js';
import { mostReplicas } from './replicas.js';

export function podDisruptionBudgets(cluster: GatewayClusterObject): KubeObject[] {
  const names = childNames(cluster.metadata.name);
  const budgets: KubeObject[] = [];
  for (const [component, name] of [['gateway', names.pdbGateway], ['worker', names.pdbWorker]] as const) {
    if (mostReplicas(cluster, component) <= 1) continue;
    budgets.push({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: roleMetadata(cluster, name, component),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cluster.metadata.name, component) } },
    });
  }
  return budgets;
}
