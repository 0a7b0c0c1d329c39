/**
 * Pod settings of a GatewayCluster that would give its pods privilege on their node, or put them on the nodes that
 * run the cluster itself. Whoever may create a GatewayCluster need not be allowed to create such pods; the operator's
 * ServiceAccount can, so the operator refuses them unless its installer allowed privileged pods (the chart's
 * allowPrivilegedPods). The checks are Pod Security Standards' baseline plus restricted's on users, privilege
 * escalation and capabilities, over all the spec lets into a pod (spec.pod; nothing else of the spec reaches host
 * namespaces, host paths or host ports), and two of scheduling: tolerating every taint, and control-plane nodes.
 */
import { REFUSED_UNLESS_ALLOWED, type GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { Problem } from './problems.js';

/** One setting that grants privilege: its field path in the GatewayCluster and what it grants. */
export interface PrivilegedSetting {
  field: string;
  grants: string;
}

/** The only capability a container may add: binding ports below 1024. */
const ALLOWED_CAPABILITY = 'NET_BIND_SERVICE';
/** Node labels (and taint keys) of control-plane nodes, current and legacy. */
const CONTROL_PLANE_KEYS = new Set(['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']);
/** SELinux types a container may run as (baseline): the container types, not the host's. */
const CONTAINER_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
/** Sysctls confined to the pod's own namespaces (baseline, Kubernetes 1.32); any other reaches the node. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
const SECCOMP_ANNOTATIONS = ['seccomp.security.alpha.kubernetes.io/pod', 'container.seccomp.security.alpha.kubernetes.io/'];

type Fields = Record<string, unknown>;
const fieldsOf = (value: unknown): Fields => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** `.name`, or `["a.b/c"]` for a key that is not a plain name (labels, annotations). */
const member = (key: string) => (/^[A-Za-z_][\w]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

/** Every setting of the spec's pod settings that grants privilege, in field order; empty when there is none. */
export function privilegedPodSettings(spec: Pick<GatewayClusterSpec, 'pod'>): PrivilegedSetting[] {
  const pod = spec.pod;
  if (!pod) return [];
  const found: PrivilegedSetting[] = [];
  const add = (field: string, grants: string) => found.push({ field: `spec.pod${field}`, grants });
  securityContextSettings(fieldsOf(pod.securityContext), '.securityContext', add);
  containerSecurityContextSettings(fieldsOf(pod.containerSecurityContext), '.containerSecurityContext', add);
  listOf(fieldsOf(pod.securityContext).sysctls).forEach((sysctl, i) => {
    const name = fieldsOf(sysctl).name;
    if (typeof name === 'string' && !SAFE_SYSCTLS.has(name)) add(`.securityContext.sysctls[${i}].name`, `sysctl ${name}, which reaches the node`);
  });
  tolerationSettings(listOf(pod.tolerations), add);
  for (const key of Object.keys(pod.nodeSelector ?? {})) {
    if (CONTROL_PLANE_KEYS.has(key)) add(`.nodeSelector${member(key)}`, 'control-plane nodes');
  }
  nodeAffinitySettings(fieldsOf(fieldsOf(pod.affinity).nodeAffinity), add);
  annotationSettings(pod.annotations ?? {}, add);
  return found;
}

/** The Degraded condition's line (and the Event's message) for a cluster refused for these settings. */
export function privilegeRefusal(settings: PrivilegedSetting[]): string {
  const list = settings.map((setting) => `${setting.field} (${setting.grants})`).join(', ');
  return `pod settings that grant privilege, ${REFUSED_UNLESS_ALLOWED}: ${list}`;
}

/** The refusal of a spec whose pods would be privileged, unless the installer allows that; empty when none is. */
export function privilegeProblems(spec: Pick<GatewayClusterSpec, 'pod'>, allowPrivilegedPods: boolean): Problem[] {
  const settings = allowPrivilegedPods ? [] : privilegedPodSettings(spec);
  return settings.length > 0 ? [{ reason: 'PrivilegedPodSettings', message: privilegeRefusal(settings) }] : [];
}

type Add = (field: string, grants: string) => void;

/** What the pod's and the container's security contexts both hold. */
function securityContextSettings(context: Fields, at: string, add: Add): void {
  if (context.runAsUser === 0) add(`${at}.runAsUser`, 'runs as root');
  if (context.runAsNonRoot === false) add(`${at}.runAsNonRoot`, 'may run as root');
  if (fieldsOf(context.seccompProfile).type === 'Unconfined') add(`${at}.seccompProfile.type`, 'no seccomp filter');
  if (fieldsOf(context.appArmorProfile).type === 'Unconfined') add(`${at}.appArmorProfile.type`, 'no AppArmor profile');
  if (fieldsOf(context.windowsOptions).hostProcess === true) add(`${at}.windowsOptions.hostProcess`, 'a process on the host');
  const selinux = fieldsOf(context.seLinuxOptions);
  if (typeof selinux.type === 'string' && !CONTAINER_SELINUX_TYPES.has(selinux.type)) add(`${at}.seLinuxOptions.type`, `SELinux type ${selinux.type}`);
  for (const key of ['user', 'role'] as const) {
    if (typeof selinux[key] === 'string' && selinux[key] !== '') add(`${at}.seLinuxOptions.${key}`, `SELinux ${key} ${selinux[key]}`);
  }
}

function containerSecurityContextSettings(context: Fields, at: string, add: Add): void {
  if (context.privileged === true) add(`${at}.privileged`, 'a privileged container');
  if (context.allowPrivilegeEscalation === true) add(`${at}.allowPrivilegeEscalation`, 'privilege escalation');
  listOf(fieldsOf(context.capabilities).add).forEach((capability, i) => {
    // The runtime adds the CAP_ prefix itself and takes any case: judge the name it will use.
    const name = String(capability).toUpperCase().replace(/^CAP_/, '');
    if (name !== ALLOWED_CAPABILITY) add(`${at}.capabilities.add[${i}]`, `capability ${String(capability)}`);
  });
  if (context.procMount !== undefined && context.procMount !== 'Default') add(`${at}.procMount`, 'an unmasked /proc');
  securityContextSettings(context, at, add);
}

function tolerationSettings(tolerations: unknown[], add: Add): void {
  tolerations.forEach((entry, i) => {
    const toleration = fieldsOf(entry);
    const key = toleration.key ?? '';
    if (key === '' && toleration.operator === 'Exists') add(`.tolerations[${i}]`, 'tolerates every taint');
    else if (typeof key === 'string' && CONTROL_PLANE_KEYS.has(key)) add(`.tolerations[${i}].key`, 'control-plane nodes');
  });
}

/** Node affinity terms, required or preferred, that select control-plane nodes. */
function nodeAffinitySettings(nodeAffinity: Fields, add: Add): void {
  const selecting = (expressions: unknown, at: string) =>
    listOf(expressions).forEach((entry, j) => {
      const expression = fieldsOf(entry);
      const selects = expression.operator === 'In' || expression.operator === 'Exists';
      if (selects && typeof expression.key === 'string' && CONTROL_PLANE_KEYS.has(expression.key)) add(`${at}.matchExpressions[${j}]`, 'control-plane nodes');
    });
  const required = '.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution';
  listOf(fieldsOf(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms).forEach((term, i) => {
    selecting(fieldsOf(term).matchExpressions, `${required}.nodeSelectorTerms[${i}]`);
  });
  listOf(nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).forEach((term, i) => {
    selecting(fieldsOf(fieldsOf(term).preference).matchExpressions, `.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`);
  });
}

/** The annotation forms of AppArmor and seccomp profiles, which the pods get from spec.pod.annotations. */
function annotationSettings(annotations: Record<string, string>, add: Add): void {
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      add(`.annotations${member(key)}`, `AppArmor profile ${value}`);
    }
    if (SECCOMP_ANNOTATIONS.some((prefix) => key.startsWith(prefix)) && value === 'unconfined') add(`.annotations${member(key)}`, 'no seccomp filter');
  }
}
