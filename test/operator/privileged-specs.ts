/** Pod settings that grant privilege, one per entry, shared by the check's unit test and the operator's test on a real API server. */
import type { GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';

export type PodSettings = NonNullable<GatewayClusterSpecInput['pod']>;
export const CONTROL_PLANE = 'node-role.kubernetes.io/control-plane';

/** Each setting that grants privilege, alone, and the field the refusal must name. */
export const PRIVILEGED: Array<[string, PodSettings, string]> = [
  ['a privileged container', { containerSecurityContext: { privileged: true } }, 'spec.pod.containerSecurityContext.privileged'],
  ['privilege escalation', { containerSecurityContext: { allowPrivilegeEscalation: true } }, 'spec.pod.containerSecurityContext.allowPrivilegeEscalation'],
  ['an added SYS_ADMIN', { containerSecurityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'SYS_ADMIN'] } } }, 'spec.pod.containerSecurityContext.capabilities.add[1]'],
  ['every capability', { containerSecurityContext: { capabilities: { add: ['ALL'] } } }, 'spec.pod.containerSecurityContext.capabilities.add[0]'],
  ['a capability by its kernel name, in lower case', { containerSecurityContext: { capabilities: { add: ['cap_net_admin'] } } }, 'spec.pod.containerSecurityContext.capabilities.add[0]'],
  ['a container running as root', { containerSecurityContext: { runAsUser: 0 } }, 'spec.pod.containerSecurityContext.runAsUser'],
  ['a container allowed to run as root', { containerSecurityContext: { runAsNonRoot: false } }, 'spec.pod.containerSecurityContext.runAsNonRoot'],
  ['a pod running as root', { securityContext: { runAsUser: 0 } }, 'spec.pod.securityContext.runAsUser'],
  ['a pod allowed to run as root', { securityContext: { runAsNonRoot: false } }, 'spec.pod.securityContext.runAsNonRoot'],
  ['an unmasked /proc', { containerSecurityContext: { procMount: 'Unmasked' } }, 'spec.pod.containerSecurityContext.procMount'],
  ['no seccomp filter', { securityContext: { seccompProfile: { type: 'Unconfined' } } }, 'spec.pod.securityContext.seccompProfile.type'],
  ['no AppArmor profile', { containerSecurityContext: { appArmorProfile: { type: 'Unconfined' } } }, 'spec.pod.containerSecurityContext.appArmorProfile.type'],
  ['the host\'s SELinux type', { securityContext: { seLinuxOptions: { type: 'spc_t' } } }, 'spec.pod.securityContext.seLinuxOptions.type'],
  ['an SELinux user', { containerSecurityContext: { seLinuxOptions: { user: 'system_u' } } }, 'spec.pod.containerSecurityContext.seLinuxOptions.user'],
  ['a Windows host process', { securityContext: { windowsOptions: { hostProcess: true } } }, 'spec.pod.securityContext.windowsOptions.hostProcess'],
  ['a sysctl that reaches the node', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } }, 'spec.pod.securityContext.sysctls[0].name'],
  ['tolerating every taint', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'chat' }, { operator: 'Exists' }] }, 'spec.pod.tolerations[1]'],
  ['tolerating the control-plane taint', { tolerations: [{ key: CONTROL_PLANE, operator: 'Exists', effect: 'NoSchedule' }] }, 'spec.pod.tolerations[0].key'],
  ['a control-plane nodeSelector', { nodeSelector: { [CONTROL_PLANE]: '' } }, `spec.pod.nodeSelector["${CONTROL_PLANE}"]`],
  [
    'node affinity requiring control-plane nodes',
    { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/master', operator: 'Exists' }] }] } } } },
    'spec.pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]',
  ],
  [
    'node affinity preferring control-plane nodes',
    { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: CONTROL_PLANE, operator: 'In', values: [''] }] } }] } } },
    'spec.pod.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0]',
  ],
  ['an unconfined AppArmor annotation', { annotations: { 'container.apparmor.security.beta.kubernetes.io/gwc': 'unconfined' } }, 'spec.pod.annotations["container.apparmor.security.beta.kubernetes.io/gwc"]'],
  // With a security context of its own: the default one's RuntimeDefault seccomp would contradict the annotation.
  [
    'an unconfined seccomp annotation',
    { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' }, securityContext: { fsGroup: 1000 } },
    'spec.pod.annotations["seccomp.security.alpha.kubernetes.io/pod"]',
  ],
];
