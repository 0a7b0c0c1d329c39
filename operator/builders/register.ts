/** The Register: a Deployment of one pod, and the ClusterIP Service whose DNS name is the registerAddress. */
import { METRICS_PORTS } from './addresses.js';
import { roleMetadata, type BuildContext, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels } from './labels.js';
import { childNames } from './names.js';
import { podTemplate } from './pod-template.js';
import { GATEWAYWORKER_PORT_NAME } from './container.js';
import { roleService, namedPort } from './service.js';

export function registerDeployment(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: roleMetadata(cluster, childNames(cluster.metadata.name).register, 'register'),
    spec: {
      replicas: 1,
      // Never two Registers at once: gateways could announce to one while workers listen to the other.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(cluster.metadata.name, 'register') },
      template: podTemplate(cluster, 'register', ctx),
    },
  };
}

export function registerService(cluster: GatewayClusterObject): KubeObject {
  return roleService(cluster, childNames(cluster.metadata.name).registerService, 'register', {
    type: 'ClusterIP',
    ports: [
      namedPort('register', cluster.spec.register.port),
      ...(cluster.spec.gatewayWorkerCompat.enabled ? [namedPort(GATEWAYWORKER_PORT_NAME, cluster.spec.gatewayWorkerCompat.port)] : []),
      namedPort('metrics', METRICS_PORTS.register),
    ],
  });
}

export function registerChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return [registerService(cluster), registerDeployment(cluster, ctx)];
}
