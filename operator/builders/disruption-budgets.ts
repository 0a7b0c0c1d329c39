import { childMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { childNames } from './names.js';

/** At most one gateway or worker down at a time by a voluntary disruption; none for a single replica (it would block drains). */
export function disruptionBudgets(cluster: GatewayClusterObject): KubeObject[] {
  const names = childNames(cluster.metadata.name);
  return (['gateway', 'worker'] as const)
    .filter((component) => cluster.spec[component].replicas > 1)
    .map((component) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: childMetadata(cluster, component === 'gateway' ? names.pdbGateway : names.pdbWorker, component),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(cluster.metadata.name, component) } },
    }));
}
