import { childMetadata, clientServicePort, METRICS_PORTS, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels, type Component } from './labels.js';
import { childNames } from './names.js';

/** Every Service port equals its targetPort: clients and tests may reach a pod directly on the same number. */
const port = (name: string, number: number) => ({ name, port: number, targetPort: number, protocol: 'TCP' });

function service(cluster: GatewayClusterObject, name: string, component: Component, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(cluster, name, component),
    spec: { selector: selectorLabels(cluster.metadata.name, component), ...spec },
  };
}

/** Its DNS name is the registerAddress every gateway and worker is given. */
export function registerService(cluster: GatewayClusterObject): KubeObject {
  return service(cluster, childNames(cluster.metadata.name).registerService, 'register', {
    type: 'ClusterIP',
    ports: [port('register', cluster.spec.register.port), port('metrics', METRICS_PORTS.register)],
  });
}

export function gatewayHeadlessService(cluster: GatewayClusterObject): KubeObject {
  return service(cluster, childNames(cluster.metadata.name).gatewayHeadless, 'gateway', {
    clusterIP: 'None',
    ports: [port('internal', cluster.spec.gateway.internalPort), port('metrics', METRICS_PORTS.gateway)],
  });
}

export function workerHeadlessService(cluster: GatewayClusterObject): KubeObject {
  return service(cluster, childNames(cluster.metadata.name).workerHeadless, 'worker', {
    clusterIP: 'None',
    ports: [port('metrics', METRICS_PORTS.worker)],
  });
}

export function gatewayClientService(cluster: GatewayClusterObject): KubeObject {
  const { service: settings, clientPort } = cluster.spec.gateway;
  const object = service(cluster, childNames(cluster.metadata.name).gatewayClient, 'gateway', {
    type: settings.type,
    ports: [{ name: 'client', port: clientServicePort(cluster), targetPort: clientPort, protocol: 'TCP' }],
  });
  if (settings.annotations) (object.metadata as Record<string, unknown>).annotations = settings.annotations;
  return object;
}
