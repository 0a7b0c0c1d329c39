import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { desiredChildren, type KubeObject } from '../../operator/builders/desired-children.js';
import { privilegedPodSettings, privilegeRefusal } from '../../operator/controller/pod-privileges.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec } from '../../operator/spec/gateway-cluster-spec.js';
import { MAX_PASSED_THROUGH_DEPTH } from '../../operator/spec/kube-types.js';
import { assetPath } from '../../runtime/assets.js';
import { buildContext } from './build-context.js';
import { CONTROL_PLANE, PRIVILEGED, type PodSettings } from './privileged-specs.js';

const fieldsOf = (pod: PodSettings) => privilegedPodSettings(gatewayClusterSpec.parse({ pod })).map((setting) => setting.field);

describe('pod settings that grant privilege', () => {
  it('finds none in the defaults, nor in hardened settings that keep to the container', () => {
    assert.deepEqual(fieldsOf({}), []);
    assert.deepEqual(privilegedPodSettings(gatewayClusterSpec.parse({})), []);
    const hardened: PodSettings = {
      annotations: { 'container.apparmor.security.beta.kubernetes.io/gwc': 'runtime/default', team: 'chat' },
      nodeSelector: { pool: 'chat' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'chat', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: CONTROL_PLANE, operator: 'DoesNotExist' }] }] } } },
      securityContext: { runAsUser: 1000, runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }] },
      containerSecurityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        procMount: 'Default',
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'cap_net_bind_service'] },
        seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' },
        appArmorProfile: { type: 'RuntimeDefault' },
      },
    };
    assert.deepEqual(fieldsOf(hardened), []);
  });

  for (const [what, pod, field] of PRIVILEGED) {
    it(`finds ${what}, by its field`, () => assert.deepEqual(fieldsOf(pod), [field]));
  }

  it('finds several in one spec, in field order, and names each in one refusal saying what lifts it', () => {
    const pod: PodSettings = {
      nodeSelector: { [CONTROL_PLANE]: '' },
      tolerations: [{ operator: 'Exists' }],
      securityContext: { runAsUser: 0 },
      containerSecurityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } },
    };
    const settings = privilegedPodSettings(gatewayClusterSpec.parse({ pod }));
    assert.deepEqual(settings.map((setting) => setting.field), [
      'spec.pod.securityContext.runAsUser',
      'spec.pod.containerSecurityContext.privileged',
      'spec.pod.containerSecurityContext.capabilities.add[0]',
      'spec.pod.tolerations[0]',
      `spec.pod.nodeSelector["${CONTROL_PLANE}"]`,
    ]);
    const refusal = privilegeRefusal(settings);
    assert.match(refusal, /allowPrivilegedPods=true/);
    assert.match(refusal, /spec\.pod\.containerSecurityContext\.privileged \(a privileged container\), spec\.pod\.containerSecurityContext\.capabilities\.add\[0\] \(capability SYS_ADMIN\)/);
    assert.ok(!refusal.includes('; '), 'one line of the Degraded condition, whose lines are joined with "; "');
  });
});

describe('what of a pod the spec reaches', () => {
  it('is never a host namespace, a host path or a host port, whatever the passed-through objects hold', () => {
    const hostly = { hostNetwork: true, hostPID: true, hostIPC: true, volumes: [{ name: 'root', hostPath: { path: '/' } }], hostPort: 80 };
    const spec = gatewayClusterSpec.parse({
      pod: { ...Object.fromEntries(['affinity', 'securityContext', 'containerSecurityContext'].map((field) => [field, hostly])), tolerations: [hostly], topologySpreadConstraints: [hostly] },
      register: { env: [{ name: 'A', ...hostly }] },
      gateway: { env: [{ name: 'A', ...hostly }] },
      worker: { env: [{ name: 'A', ...hostly }] },
      api: { env: [{ name: 'A', ...hostly }] },
      networkPolicy: { internalFrom: [hostly], metricsFrom: [hostly] },
    });
    const children = desiredChildren({ apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec }, buildContext());
    const pods = children.filter((child) => (child.spec as { template?: unknown } | undefined)?.template).map((child) => (child.spec as { template: { spec: KubeObject['spec'] } }).template.spec as Record<string, any>);
    assert.equal(pods.length, 4, 'register, gateway, worker, api');
    for (const pod of pods) {
      for (const field of ['hostNetwork', 'hostPID', 'hostIPC', 'hostUsers', 'nodeName']) assert.equal(pod[field], undefined, field);
      assert.ok(pod.volumes.every((volume: Record<string, unknown>) => volume.hostPath === undefined), 'no hostPath volume');
      for (const container of pod.containers) assert.ok(container.ports.every((port: Record<string, unknown>) => port.hostPort === undefined), 'no hostPort');
    }
  });

  it(`refuses a passed-through object nested deeper than ${MAX_PASSED_THROUGH_DEPTH} levels, naming its field`, () => {
    let deep: Record<string, unknown> = {};
    for (let level = 1; level < 200_000; level++) deep = { deep };
    const parsed = gatewayClusterSpec.safeParse({ pod: { affinity: deep } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error!.issues.map((issue) => [issue.path.join('.'), issue.message]), [['pod.affinity', `nested deeper than ${MAX_PASSED_THROUGH_DEPTH} levels`]]);
    let atLimit: Record<string, unknown> = {};
    for (let level = 1; level < MAX_PASSED_THROUGH_DEPTH; level++) atLimit = { deep: atLimit };
    assert.equal(gatewayClusterSpec.safeParse({ pod: { affinity: atLimit } }).success, true);
    const readme = readFileSync(assetPath('README.md'), 'utf8').replace(/\s+/g, ' ');
    assert.ok(readme.includes(`nest at most ${MAX_PASSED_THROUGH_DEPTH} levels`), `README.md states ${MAX_PASSED_THROUGH_DEPTH}`);
  });
});
