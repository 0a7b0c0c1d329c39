export type Component = 'register' | 'gateway' | 'worker';

/** The labels a pod's selector uses: never anything that changes with the spec (selectors are immutable). */
export function selectorLabels(cluster: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'gateway-cluster',
    'app.kubernetes.io/instance': cluster,
    'app.kubernetes.io/component': component,
  };
}

export function labelsFor(cluster: string, component: Component): Record<string, string> {
  return { ...selectorLabels(cluster, component), 'app.kubernetes.io/managed-by': 'gateway-cluster-operator' };
}

/** `a=b,c=d` with keys sorted, as a label selector string (the scale subresource's status.selector). */
export function selectorFor(cluster: string, component: Component): string {
  return Object.entries(selectorLabels(cluster, component))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
