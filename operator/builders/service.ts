/** A Service selecting one role's pods. */
import { roleMetadata, type GatewayClusterObject, type KubeObject } from './cluster-object.js';
import { selectorLabels, type Component } from './labels.js';

export interface ServicePort {
  name: string;
  port: number;
  /** The container port of the same name: the Service follows the pods' ports, whatever number they have. */
  targetPort: string;
  protocol: 'TCP';
}

/** A Service port sending to the pods' container port named `name`. */
export const namedPort = (name: string, port: number): ServicePort => ({ name, port, targetPort: name, protocol: 'TCP' });

export function roleService(cluster: GatewayClusterObject, name: string, component: Component, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: roleMetadata(cluster, name, component),
    spec: { ...spec, selector: selectorLabels(cluster.metadata.name, component) },
  };
}

/** A headless Service (DNS per pod) over a role's ready pods. */
export function headlessService(cluster: GatewayClusterObject, name: string, component: Component, ports: ServicePort[]): KubeObject {
  return roleService(cluster, name, component, { clusterIP: 'None', publishNotReadyAddresses: false, ports });
}
