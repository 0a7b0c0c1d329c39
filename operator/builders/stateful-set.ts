/** The StatefulSet of a scalable role (gateways, workers): stable pod names, started and stopped in parallel. */
import { roleMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { podTemplate } from './pod-template.js';
import { desiredReplicas } from './replicas.js';

export function roleStatefulSet(
  cluster: GatewayClusterObject,
  ctx: BuildContext,
  component: 'gateway' | 'worker',
  names: { statefulSet: string; headlessService: string },
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: roleMetadata(cluster, names.statefulSet, component),
    spec: {
      replicas: desiredReplicas(cluster, component, ctx),
      serviceName: names.headlessService,
      // Pods do not depend on each other: no reason to start them one by one.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(cluster.metadata.name, component) },
      template: podTemplate(cluster, component, ctx),
    },
  };
}
