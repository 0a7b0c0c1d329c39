import { childMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { childNames } from './names.js';
import { podTemplate } from './pod-template.js';

export function registerDeployment(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject {
  const name = cluster.metadata.name;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(cluster, childNames(name).register, 'register'),
    spec: {
      replicas: 1,
      // Never two Registers: gateways would announce to one and workers subscribe to the other.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(name, 'register') },
      template: podTemplate(cluster, 'register', ctx),
    },
  };
}

function statefulSet(cluster: GatewayClusterObject, ctx: BuildContext, component: 'gateway' | 'worker'): KubeObject {
  const name = cluster.metadata.name;
  const names = childNames(name);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMetadata(cluster, component === 'gateway' ? names.gateway : names.worker, component),
    spec: {
      replicas: cluster.spec[component].replicas,
      serviceName: component === 'gateway' ? names.gatewayHeadless : names.workerHeadless,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(name, component) },
      template: podTemplate(cluster, component, ctx),
    },
  };
}

export const gatewayStatefulSet = (cluster: GatewayClusterObject, ctx: BuildContext) => statefulSet(cluster, ctx, 'gateway');
export const workerStatefulSet = (cluster: GatewayClusterObject, ctx: BuildContext) => statefulSet(cluster, ctx, 'worker');
