/** The Gateways: a StatefulSet, a headless Service (internal and metrics ports) and the client Service. */
import { clientServicePort, METRICS_PORTS } from './addresses.js';
import type { BuildContext, GatewayClusterObject, KubeObject } from './cluster-object.js';
import { childNames } from './names.js';
import { headlessService, roleService, namedPort } from './service.js';
import { roleStatefulSet } from './stateful-set.js';

export function gatewayStatefulSet(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject {
  const names = childNames(cluster.metadata.name);
  return roleStatefulSet(cluster, ctx, 'gateway', { statefulSet: names.gateway, headlessService: names.gatewayHeadless });
}

export function gatewayHeadlessService(cluster: GatewayClusterObject): KubeObject {
  const ports = [namedPort('internal', cluster.spec.gateway.internalPort), namedPort('metrics', METRICS_PORTS.gateway)];
  return headlessService(cluster, childNames(cluster.metadata.name).gatewayHeadless, 'gateway', ports);
}

/** Type and annotations from spec.gateway.service; the port is service.port (or the client port) to the client port. */
export function gatewayClientService(cluster: GatewayClusterObject): KubeObject {
  const { service: settings } = cluster.spec.gateway;
  const object = roleService(cluster, childNames(cluster.metadata.name).gatewayClient, 'gateway', {
    type: settings.type,
    ports: [namedPort('client', clientServicePort(cluster))],
  });
  if (settings.annotations && Object.keys(settings.annotations).length > 0) object.metadata.annotations = { ...settings.annotations };
  return object;
}

export function gatewayChildren(cluster: GatewayClusterObject, ctx: BuildContext): KubeObject[] {
  return [gatewayHeadlessService(cluster), gatewayClientService(cluster), gatewayStatefulSet(cluster, ctx)];
}
