/** The pod template shared by the three roles: labels, annotations, scheduling and security from spec.pod. */
import { gatewayStopBudgetMs } from '../../runtime/gateway/stop-budget.js';
import { METRICS_PORTS } from './addresses.js';
import { copy, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import { PRE_STOP_SLEEP_SECONDS, roleContainer } from './container.js';
import { labelsFor, selectorLabels, type Component } from './labels.js';
import { roleVolumes } from './volumes.js';

/** Seconds a pod has to stop; gateways say goodbye to their clients and drain, so they get longer. */
export const GRACE_SECONDS: Readonly<Record<Component, number>> = Object.freeze({ register: 30, gateway: 60, worker: 30, api: 30 });

/** Beyond the gateway's own stop budget, before the kubelet kills it: the process's exit once its stop gave up. */
const GATEWAY_EXIT_SECONDS = 10;

/** Gateways get their stop on top: the preStop pause, then their stop budget (the drain and more), then time to exit. */
export function graceSeconds(cluster: GatewayClusterObject, component: Component): number {
  if (component !== 'gateway') return GRACE_SECONDS[component];
  const stopSeconds = Math.ceil(gatewayStopBudgetMs(cluster.spec.gateway.drainSeconds) / 1000);
  return Math.max(GRACE_SECONDS.gateway, PRE_STOP_SLEEP_SECONDS + stopSeconds + GATEWAY_EXIT_SECONDS);
}

/**
 * The pod security context spec.pod.securityContext is merged over, key by key. fsGroup lets the (non-root) container user read
 * the secret volume: with an fsGroup the kubelet makes the 0400 files group-owned and group-readable.
 */
export function defaultPodSecurityContext() {
  return { fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } };
}

function podAnnotations(cluster: GatewayClusterObject, component: Component): Record<string, string> | undefined {
  const annotations: Record<string, string> = { ...(cluster.spec.pod?.annotations ?? {}) };
  if (cluster.spec.metrics.enabled) {
    annotations['prometheus.io/scrape'] = 'true';
    annotations['prometheus.io/port'] = String(METRICS_PORTS[component]);
    annotations['prometheus.io/path'] = '/metrics';
  }
  return Object.keys(annotations).length > 0 ? annotations : undefined;
}

/** Fields of spec.pod copied into the pod spec as they are, when set. */
const PASSED_THROUGH = ['nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints'] as const;

/** Where a role's pods are spread, widest first: a zone that fails takes the fewest, then a node. */
export const SPREAD_TOPOLOGY_KEYS = ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'] as const;

/**
 * A role with several pods (gateways, workers, the HTTP API; the Register has one) is spread over zones and nodes,
 * as a preference: pods still schedule when there are fewer zones or nodes than pods, or one is short of room. A
 * spec.pod.topologySpreadConstraints or spec.pod.affinity of the user's replaces this (an empty list: no spread).
 */
export function defaultTopologySpread(cluster: GatewayClusterObject, component: Component): object[] | undefined {
  const pod = cluster.spec.pod ?? {};
  if (component === 'register' || pod.topologySpreadConstraints !== undefined || pod.affinity !== undefined) return undefined;
  return SPREAD_TOPOLOGY_KEYS.map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selectorLabels(cluster.metadata.name, component) },
  }));
}

export function podTemplate(cluster: GatewayClusterObject, component: Component, ctx: BuildContext) {
  const { spec } = cluster;
  const pod = spec.pod ?? {};
  const { volumes, mounts } = roleVolumes(cluster, component, ctx);
  const annotations = podAnnotations(cluster, component);
  const scheduling: Record<string, unknown> = {};
  for (const field of PASSED_THROUGH) if (pod[field] !== undefined) scheduling[field] = copy(pod[field]);
  const spread = defaultTopologySpread(cluster, component);
  if (spread) scheduling.topologySpreadConstraints = spread;
  return {
    metadata: {
      // Ours win over the user's: the selector must keep matching.
      labels: { ...(pod.labels ?? {}), ...labelsFor(cluster.metadata.name, component) },
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      ...(spec.imagePullSecrets ? { imagePullSecrets: copy(spec.imagePullSecrets) } : {}),
      ...scheduling,
      securityContext: { ...defaultPodSecurityContext(), ...copy(pod.securityContext) },
      terminationGracePeriodSeconds: graceSeconds(cluster, component),
      // No role talks to the Kubernetes API: a compromised pod gets no token to try.
      automountServiceAccountToken: false,
      // Service link variables (<SVC>_PORT=tcp://...) could collide with GWC_* settings: a Service named gwc sets GWC_PORT.
      enableServiceLinks: false,
      containers: [roleContainer(cluster, component, ctx, mounts)],
      volumes,
    },
  };
}
