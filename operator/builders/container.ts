/** The one container of every pod: `gwc`, running `gwc <role>` with the role's GWC_* settings. */
import { METRICS_PORTS } from './addresses.js';
import { copy, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';
import { roleEnv } from './role-env.js';
import type { RoleVolumes } from './volumes.js';

export const CONTAINER_NAME = 'gwc';

/** The image of this release: every role of a GatewayCluster runs it unless its spec pins another. */
export const DEFAULT_OPERAND_IMAGE = 'ghcr.io/gatewaycluster/gateway-cluster:0.1.0';

/** The container security context spec.pod.containerSecurityContext is merged over. */
export function defaultContainerSecurityContext() {
  return { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
}

/**
 * The user's container security context over the hardened default, key by key (capabilities too): a key the user
 * leaves out keeps the default, so `{}` or `{ capabilities: { add: [NET_BIND_SERVICE] } }` does not quietly allow
 * privilege escalation or the runtime's default capabilities. What the user may set at all is pod-privileges.ts's.
 */
function containerSecurityContext(user: Record<string, unknown> | undefined) {
  const defaults = defaultContainerSecurityContext();
  const own = copy(user) ?? {};
  const capabilities = own.capabilities as Record<string, unknown> | undefined;
  // Kubernetes refuses a privileged container that may not escalate; privileged is only there when the installer allows it.
  const escalation = own.privileged === true ? { allowPrivilegeEscalation: true } : {};
  return { ...defaults, ...escalation, ...own, capabilities: { ...defaults.capabilities, ...capabilities } };
}

const tcp = (name: string, containerPort: number) => ({ name, containerPort, protocol: 'TCP' });

/** The Register's port for GatewayWorker's GatewayClient, when spec.gatewayWorkerCompat is on. */
export const GATEWAYWORKER_PORT_NAME = 'gatewayworker';
const gatewayWorkerPorts = (cluster: GatewayClusterObject) =>
  cluster.spec.gatewayWorkerCompat.enabled ? [tcp(GATEWAYWORKER_PORT_NAME, cluster.spec.gatewayWorkerCompat.port)] : [];

function containerPorts(cluster: GatewayClusterObject, component: Component) {
  const metrics = tcp('metrics', METRICS_PORTS[component]);
  switch (component) {
    case 'register':
      return [tcp('register', cluster.spec.register.port), ...gatewayWorkerPorts(cluster), metrics];
    case 'gateway':
      return [tcp('client', cluster.spec.gateway.clientPort), tcp('internal', cluster.spec.gateway.internalPort), metrics];
    case 'worker':
      return [metrics];
    case 'api':
      return [tcp('api', cluster.spec.api.port), metrics];
  }
}

/**
 * Before a gateway gets SIGTERM it waits this long, so its pod leaves the client Service's endpoints and no new
 * client is sent to it while it drains. (A sleep action: the image has no shell.)
 */
export const PRE_STOP_SLEEP_SECONDS = 3;

/** /readyz and /healthz on the metrics port (the runtime serves them there). */
function probes() {
  return {
    readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6 },
  };
}

export function roleContainer(cluster: GatewayClusterObject, component: Component, ctx: BuildContext, mounts: RoleVolumes['mounts']) {
  const { spec } = cluster;
  const resources = spec[component].resources;
  return {
    name: CONTAINER_NAME,
    image: spec.image ?? ctx.defaultImage,
    imagePullPolicy: spec.imagePullPolicy,
    // The image's entrypoint is `node dist/runtime/cli.js`.
    args: [component],
    env: roleEnv(cluster, component, ctx),
    ports: containerPorts(cluster, component),
    ...probes(),
    ...(component === 'gateway' ? { lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } } } : {}),
    ...(resources ? { resources: copy(resources) } : {}),
    securityContext: containerSecurityContext(spec.pod?.containerSecurityContext),
    volumeMounts: mounts,
  };
}
