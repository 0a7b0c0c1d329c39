import { API_VERSION, KIND, PLURAL } from '../spec/gateway-cluster-kind.js';

/** REST paths of the kinds the operator reads and writes. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
}

export const RESOURCE_TYPES = {
  [KIND]: { apiVersion: API_VERSION, kind: KIND, plural: PLURAL },
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  StatefulSet: { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  Service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  PodDisruptionBudget: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  HorizontalPodAutoscaler: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers' },
  ServiceMonitor: { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', plural: 'servicemonitors' },
  Event: { apiVersion: 'v1', kind: 'Event', plural: 'events' },
  Pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  Node: { apiVersion: 'v1', kind: 'Node', plural: 'nodes' },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
} as const satisfies Record<string, ResourceType>;

export function typeOf(apiVersion: string, kind: string): ResourceType {
  const found = Object.values(RESOURCE_TYPES).find((t) => t.apiVersion === apiVersion && t.kind === kind);
  if (!found) throw new Error(`unknown kind ${apiVersion} ${kind}`);
  return found;
}

/** /api/v1/namespaces/ns/services, /apis/apps/v1/statefulsets (all namespaces), ... */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${type.plural}` : `${base}/${type.plural}`;
}

/** An empty namespace gives the path of a cluster-scoped object: /api/v1/nodes/<name>. */
export function objectPath(type: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`;
}
