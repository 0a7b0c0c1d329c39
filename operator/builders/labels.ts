/** The labels of children and pods, and the selectors over them. */
export type Component = 'register' | 'gateway' | 'worker' | 'api';

export const COMPONENTS: readonly Component[] = Object.freeze(['register', 'gateway', 'worker', 'api'] as const);
export const MANAGED_BY = 'gateway-cluster-operator';

/** The label naming the GatewayCluster an object belongs to. */
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';

/** name + instance: every object of one cluster (the ServiceMonitor selects its Services with these). */
export function instanceLabels(cluster: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'gateway-cluster', [INSTANCE_LABEL]: cluster };
}

/** The labels a role's selectors use: never anything that changes with the spec (StatefulSet selectors are immutable). */
export function selectorLabels(cluster: string, component: Component): Record<string, string> {
  return { ...instanceLabels(cluster), 'app.kubernetes.io/component': component };
}

/** The labels of a role's objects and pods. */
export function labelsFor(cluster: string, component: Component): Record<string, string> {
  return { ...selectorLabels(cluster, component), 'app.kubernetes.io/managed-by': MANAGED_BY };
}

/** `key=value,...` with keys sorted: a role's pods as a label selector string (the scale subresource's status.selector). */
export function selectorFor(cluster: string, component: Component): string {
  return Object.entries(selectorLabels(cluster, component))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
