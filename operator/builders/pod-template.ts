import { METRICS_PORTS, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import { labelsFor, type Component } from './labels.js';
import { HANDLER_MOUNT, roleEnv, SECRET_MOUNT } from './role-env.js';

const DEFAULT_CONTAINER_SECURITY = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

const GRACE_SECONDS: Record<Component, number> = { register: 30, gateway: 60, worker: 30 };

function containerPorts(cluster: GatewayClusterObject, component: Component) {
  const metrics = { name: 'metrics', containerPort: METRICS_PORTS[component], protocol: 'TCP' };
  if (component === 'register') return [{ name: 'register', containerPort: cluster.spec.register.port, protocol: 'TCP' }, metrics];
  if (component === 'gateway') {
    return [
      { name: 'client', containerPort: cluster.spec.gateway.clientPort, protocol: 'TCP' },
      { name: 'internal', containerPort: cluster.spec.gateway.internalPort, protocol: 'TCP' },
      metrics,
    ];
  }
  return [metrics];
}

/** The pod template of one role: one `gwc` container running `gwc <role>`, configured through GWC_* variables. */
export function podTemplate(cluster: GatewayClusterObject, component: Component, ctx: BuildContext) {
  const { spec } = cluster;
  const pod = spec.pod ?? {};
  const resources = spec[component].resources;
  const annotations: Record<string, string> = { ...(pod.annotations ?? {}) };
  if (spec.metrics.enabled) {
    Object.assign(annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORTS[component]), 'prometheus.io/path': '/metrics' });
  }
  const handlerConfigMap = component === 'worker' ? spec.worker.handler.configMap : undefined;
  const volumes: unknown[] = [{ name: 'secret', secret: { secretName: ctx.secretName, defaultMode: 0o400 } }];
  const mounts: unknown[] = [{ name: 'secret', mountPath: SECRET_MOUNT, readOnly: true }];
  if (handlerConfigMap) {
    volumes.push({ name: 'handler', configMap: { name: handlerConfigMap.name } });
    mounts.push({ name: 'handler', mountPath: HANDLER_MOUNT, readOnly: true });
  }
  const probe = (path: string, periodSeconds: number, failureThreshold: number, initialDelaySeconds: number) => ({
    httpGet: { path, port: 'metrics' },
    periodSeconds,
    failureThreshold,
    initialDelaySeconds,
  });
  return {
    metadata: {
      // Ours win over the user's: the selector must keep matching.
      labels: { ...(pod.labels ?? {}), ...labelsFor(cluster.metadata.name, component) },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      terminationGracePeriodSeconds: GRACE_SECONDS[component],
      securityContext: pod.securityContext ?? { seccompProfile: { type: 'RuntimeDefault' } },
      ...(spec.imagePullSecrets ? { imagePullSecrets: spec.imagePullSecrets } : {}),
      ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
      ...(pod.tolerations ? { tolerations: pod.tolerations } : {}),
      ...(pod.affinity ? { affinity: pod.affinity } : {}),
      ...(pod.topologySpreadConstraints ? { topologySpreadConstraints: pod.topologySpreadConstraints } : {}),
      containers: [
        {
          name: 'gwc',
          image: spec.image,
          imagePullPolicy: spec.imagePullPolicy,
          args: [component],
          env: roleEnv(cluster, component, ctx),
          ports: containerPorts(cluster, component),
          readinessProbe: probe('/readyz', 5, 3, 0),
          livenessProbe: probe('/healthz', 10, 6, 10),
          ...(resources ? { resources } : {}),
          securityContext: pod.containerSecurityContext ?? DEFAULT_CONTAINER_SECURITY,
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
}
