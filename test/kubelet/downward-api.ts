/**
 * Test-only: the downward API as the process kubelet resolves it, for env (`valueFrom.fieldRef`,
 * `valueFrom.resourceFieldRef`) and for downwardAPI volume items.
 */
import type { V1Container, V1Pod, V1ResourceFieldSelector } from '@kubernetes/client-node';

/** What only the kubelet knows about a pod it runs (not yet, or never, in the pod object it watched). */
export interface PodRuntimeInfo {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** The node's allocatable resources, used for a limit the container does not set (as the kubelet does). */
  nodeAllocatable: Record<string, string>;
}

export class DownwardApiError extends Error {}

const LABEL_OR_ANNOTATION = /^metadata\.(labels|annotations)\[['"](.+)['"]\]$/;

/** The value of a fieldRef for an env var (the paths the kubelet supports there). */
export function fieldRefValue(pod: V1Pod, fieldPath: string, info: PodRuntimeInfo): string {
  const meta = pod.metadata ?? {};
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName || info.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return info.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return info.podIP;
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
  }
  const match = LABEL_OR_ANNOTATION.exec(fieldPath);
  if (match) {
    const map = match[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[match[2]!] ?? '';
  }
  throw new DownwardApiError(`unsupported fieldPath: ${fieldPath}`);
}

/** `key="value"` lines sorted by key, as in a downwardAPI volume file for labels or annotations. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map![key])}`)
    .join('\n');
}

/** Parses a Kubernetes quantity (`500m`, `1Gi`, `2`, `1e3`) into a number. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([+-]?[0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(quantity.trim());
  if (!match) throw new DownwardApiError(`invalid quantity "${quantity}"`);
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  if (/^[eE]/.test(suffix)) return value * 10 ** Number(suffix.slice(1));
  const factors: Record<string, number> = {
    '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  return value * factors[suffix]!;
}

/**
 * The value of a resourceFieldRef (`limits.cpu`, `requests.memory`, ...): the quantity divided by the divisor (default
 * 1) rounded up, as the kubelet computes it. A limit the container does not set is the node's allocatable.
 */
export function resourceFieldRefValue(pod: V1Pod, defaultContainer: string | undefined, ref: V1ResourceFieldSelector, info: PodRuntimeInfo): string {
  const containerName = ref.containerName || defaultContainer;
  const containers: V1Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const container = containers.find((c) => c.name === containerName);
  if (!container) throw new DownwardApiError(`resourceFieldRef names unknown container "${containerName ?? ''}"`);
  const [kind, resource] = ref.resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !resource) throw new DownwardApiError(`unsupported resource: ${ref.resource}`);
  let quantity: string | undefined = container.resources?.[kind]?.[resource];
  if (quantity === undefined && kind === 'limits') quantity = info.nodeAllocatable[resource];
  if (quantity === undefined && kind === 'requests') quantity = container.resources?.limits?.[resource] ?? '0';
  const divisor = parseQuantity(ref.divisor ?? '1') || 1;
  return String(Math.ceil(parseQuantity(quantity ?? '0') / divisor - 1e-9));
}
