/**
 * The GatewayCluster spec, written once: the operator parses with it, and the CRD's OpenAPI schema in crds/ is
 * generated from it (operator/crd). Defaults here become the API server's defaults.
 */
import { z } from 'zod';
import { apiSettings, gatewaySettings, registerSettings, workerSettings } from '../../runtime/config/role-settings.js';
import { defaultOf, MIN_SECRET_LENGTH } from '../../runtime/config/settings.js';
import { GATEWAY_CONNECTIONS_METRIC } from '../../runtime/gateway/gateway-metrics.js';
import { kubeObject, name, port, resources, stringMap } from './kube-types.js';
import { specFields } from './setting-fields.js';

/** How the field docs and a refusal (controller/pod-privileges.ts) say what the operator's allowPrivilegedPods decides. */
export const REFUSED_UNLESS_ALLOWED = 'refused unless the operator is installed with allowPrivilegedPods=true';

/** Every role's escape hatch: its variables come last, so they set any GWC_* setting (`gwc <role> --help`). */
const env = z
  .array(kubeObject())
  .optional()
  .describe('extra environment variables (Kubernetes EnvVar), after the operator\'s: any GWC_* setting of the role (gwc <role> --help)');

const register = z
  .object({
    ...specFields(registerSettings),
    env,
    resources: resources.optional(),
  })
  .describe('the Register: one pod, the directory of gateways');

/** A role's Service: its type, its port (`unsetPort` when not given) and its annotations. */
function serviceSpec(name: string, unsetPort: string) {
  return z.object({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
    port: port.optional().describe(`port of the ${name} Service; ${unsetPort} when unset`),
    annotations: stringMap().optional(),
  });
}

const gatewayAutoscaling = z
  .object({
    enabled: z.boolean().default(false).describe('a HorizontalPodAutoscaler sets the gateway replicas (spec.gateway.replicas is then only the first count)'),
    minReplicas: z.number().int().min(1).max(1000).default(1),
    maxReplicas: z.number().int().min(1).max(1000).default(10),
    targetConnectionsPerPod: z
      .number()
      .int()
      .min(1)
      .default(5000)
      .describe(`average ${GATEWAY_CONNECTIONS_METRIC} per gateway pod to aim for (a Pods metric: needs a custom metrics adapter, or KEDA)`),
    scaleDownStabilizationSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(300)
      .describe('how long the connection count must stay low before a gateway is removed (its clients reconnect elsewhere)'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: '!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas', message: 'gateway.autoscaling.minReplicas must not exceed maxReplicas' },
    ],
  })
  .describe('autoscale the gateways on their connection count');

const gateway = z
  .object({
    replicas: z.number().int().min(0).max(1000).default(1),
    ...specFields(gatewaySettings),
    service: serviceSpec('client', 'the gateway client port').describe('the Service clients connect through').prefault({}),
    autoscaling: gatewayAutoscaling.prefault({}),
    tlsSecretName: name
      .optional()
      .describe('a kubernetes.io/tls Secret (tls.crt, tls.key) for wss:// and TLS on the TCP protocols; a renewed certificate is taken without a restart'),
    env,
    resources: resources.optional(),
  })
  .meta({
    'x-kubernetes-validations': [
      // has(): the API server also checks the rules against the schema's own default ({}), before nested defaults.
      {
        rule: '!has(self.clientPort) || !has(self.internalPort) || self.clientPort != self.internalPort',
        message: 'gateway.clientPort and gateway.internalPort must differ',
      },
    ],
  })
  .describe('the Gateways: they hold the client connections');

const handler = z
  .object({
    module: z.string().min(1).optional().describe('a bundled handler name (chat, echo) or a module path inside the image'),
    configMap: z
      .object({ name, key: z.string().min(1).default('handler.mjs') })
      .optional()
      .describe('a ConfigMap holding the handler module'),
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: '!(has(self.module) && has(self.configMap))', message: 'set worker.handler.module or worker.handler.configMap, not both' },
    ],
  })
  .describe('the handler module the workers run; the bundled chat handler when empty');

const worker = z
  .object({
    replicas: z.number().int().min(0).max(1000).default(1),
    handler: handler.prefault({}),
    ...specFields(workerSettings),
    env,
    resources: resources.optional(),
  })
  .describe('the BusinessWorkers: they run the handler; scaled by the scale subresource');

const api = z
  .object({
    enabled: z.boolean().default(true).describe('run the HTTP API (gwc api): the Gateway API over HTTP/JSON for backends in any language'),
    replicas: z.number().int().min(0).max(100).default(1),
    ...specFields(apiSettings),
    keySecretRef: z
      .object({ name, key: z.string().min(1).default('keys') })
      .optional()
      .describe('a Secret holding the API keys, one per line (more than one for a rotation); one with a random key is generated when unset'),
    env,
    service: serviceSpec('API', 'the API port').prefault({}),
    resources: resources.optional(),
  })
  .describe('the HTTP API: POST /v1/<method> with Authorization: Bearer <key>; reaches the gateways through the Register');

const pod = z
  .object({
    labels: stringMap().optional(),
    annotations: stringMap()
      .optional()
      .describe(`annotations of every pod; AppArmor profiles other than runtime/default or localhost/*, and unconfined seccomp, are ${REFUSED_UNLESS_ALLOWED}`),
    nodeSelector: stringMap()
      .optional()
      .describe(`node labels every pod needs; selecting control-plane nodes (node-role.kubernetes.io/control-plane or master) is ${REFUSED_UNLESS_ALLOWED}`),
    tolerations: z
      .array(kubeObject())
      .optional()
      .describe(`Kubernetes Tolerations; tolerating every taint (operator Exists with no key) or the control-plane taints is ${REFUSED_UNLESS_ALLOWED}`),
    affinity: kubeObject()
      .optional()
      .describe(`Kubernetes Affinity, replacing the default topology spread too; node affinity terms selecting control-plane nodes are ${REFUSED_UNLESS_ALLOWED}`),
    topologySpreadConstraints: z
      .array(kubeObject())
      .optional()
      .describe('unset: gateways, workers and the HTTP API are each spread over zones and nodes when they can be (maxSkew 1, ScheduleAnyway); [] for no spread'),
    securityContext: kubeObject()
      .optional()
      .describe(
        `pod security context, merged key by key over the operator's default (fsGroup 1000, seccomp RuntimeDefault); runAsUser 0, runAsNonRoot false, Unconfined seccomp or AppArmor, SELinux types other than the container ones or an SELinux user or role, Windows host processes and sysctls outside the safe set are ${REFUSED_UNLESS_ALLOWED}`,
      ),
    containerSecurityContext: kubeObject()
      .optional()
      .describe(
        `container security context, merged key by key (capabilities too) over the operator's hardened default (runAsNonRoot, no privilege escalation, read-only root filesystem, every capability dropped); privileged, allowPrivilegeEscalation true, added capabilities other than NET_BIND_SERVICE, an unmasked procMount and what the pod security context refuses are ${REFUSED_UNLESS_ALLOWED}`,
      ),
  })
  .describe('applied to every pod of the cluster; settings that would grant the pods privilege are refused (Degraded, nothing changed) unless the operator is installed with allowPrivilegedPods=true: privilege is the installer\'s decision, not the GatewayCluster author\'s');

const metrics = z
  .object({
    enabled: z.boolean().default(true).describe('annotate the pods for Prometheus scraping (every pod serves /metrics, /healthz and /readyz either way: the probes use them)'),
    serviceMonitor: z
      .object({ enabled: z.boolean().default(false), interval: z.string().regex(/^\d+[smh]$/).optional() })
      .prefault({})
      .describe('create a prometheus-operator ServiceMonitor (when its CRD is installed)'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '!has(self.serviceMonitor) || !has(self.serviceMonitor.enabled) || !self.serviceMonitor.enabled || !has(self.enabled) || self.enabled',
        message: 'metrics.serviceMonitor.enabled needs metrics.enabled',
      },
    ],
  });

const networkPolicy = z
  .object({
    enabled: z.boolean().default(true).describe('create a NetworkPolicy keeping the Register and gateway internal ports to the cluster\'s own pods'),
    internalFrom: z
      .array(kubeObject())
      .optional()
      .describe('more NetworkPolicyPeers that may reach the Register and the gateways\' internal port (API clients elsewhere); pods labelled gatewaycluster.dev/api-client=<cluster name> in this namespace always may'),
    metricsFrom: z
      .array(kubeObject())
      .optional()
      .describe('NetworkPolicyPeers that may reach the metrics ports (/metrics, /healthz, /readyz); anyone when unset'),
  })
  .describe('who may reach which port of the cluster\'s pods; the client port is always open');

const gatewayWorkerCompat = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('answer GatewayWorker\'s PHP GatewayClient: its Register protocol on the Register Service\'s port `gatewayworker`, GatewayProtocol on the gateways\' internal port; the secret travels in plain text'),
    port: port
      .default(defaultOf(registerSettings.gatewayWorkerPort))
      .describe('port of the Register (and its Service) that answers GatewayClient\'s worker_connect: Gateway::$registerAddress = \'<name>-register.<namespace>.svc:<port>\''),
    secretRef: z
      .object({ name, key: z.string().min(1).default('secret') })
      .optional()
      .describe(`a Secret holding GatewayClient's $secretKey (at least ${MIN_SECRET_LENGTH} printable ASCII characters without " or \\), never the shared secret; one is generated (<name>-gatewayworker-secret) when unset`),
  })
  .describe('GatewayWorker compatibility: PHP backends push with GatewayWorker\'s GatewayClient unchanged, pointed at the Register\'s compat port; reachable only as the internal ports are (spec.networkPolicy)');

export const gatewayClusterSpec = z.object({
  image: z
    .string()
    .min(1)
    .optional()
    .describe('image of every role; when unset, the operator\'s --operand-image (its own image, with the chart), so upgrading the operator upgrades this cluster'),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  imagePullSecrets: z.array(z.object({ name })).optional(),
  secretRef: z
    .object({ name, key: z.string().min(1).default('secret') })
    .optional()
    .describe(`a Secret holding the shared secret (at least ${MIN_SECRET_LENGTH} characters); one is generated when unset`),
  internalTls: z
    .object({ secretName: name.describe('a Secret with tls.crt, tls.key and ca.crt, e.g. from cert-manager') })
    .optional()
    .describe('mutual TLS on every internal connection: each pod presents tls.crt and accepts only peers whose certificate ca.crt signed'),
  register: register.prefault({}),
  gateway: gateway.prefault({}),
  worker: worker.prefault({}),
  api: api.prefault({}),
  gatewayWorkerCompat: gatewayWorkerCompat.prefault({}),
  pod: pod.optional(),
  metrics: metrics.prefault({}),
  networkPolicy: networkPolicy.prefault({}),
  nodeLossTimeout: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(60)
    .describe(
      'seconds a pod of this cluster may stay on a lost node (Ready False or Unknown, or deleted), counted from when the operator saw it lost, before the operator deletes it with grace period 0 so that its StatefulSet or Deployment starts it on another node; Kubernetes itself never replaces a StatefulSet pod whose node stopped answering. 0: never',
    ),
  paused: z.boolean().default(false).describe('stop changing the children (as the gatewaycluster.dev/paused annotation does)'),
}).meta({
  'x-kubernetes-validations': [
    {
      // Both ports are the Register's; with compatibility off the compat port is never opened.
      rule: '!has(self.gatewayWorkerCompat) || !has(self.gatewayWorkerCompat.enabled) || !self.gatewayWorkerCompat.enabled || !has(self.gatewayWorkerCompat.port) || !has(self.register) || !has(self.register.port) || self.gatewayWorkerCompat.port != self.register.port',
      message: 'gatewayWorkerCompat.port and register.port must differ',
    },
  ],
});

export type GatewayClusterSpec = z.output<typeof gatewayClusterSpec>;
export type GatewayClusterSpecInput = z.input<typeof gatewayClusterSpec>;
