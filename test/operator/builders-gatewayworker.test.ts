import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredChildren, type GatewayClusterObject, type KubeObject } from '../../operator/builders/desired-children.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { gatewaySettings, registerSettings } from '../../runtime/config/role-settings.js';
import { defaultOf, loadSettings } from '../../runtime/config/settings.js';
import { buildContext } from './build-context.js';

const ctx = buildContext({ gatewayWorkerSecretName: 'chat-gatewayworker-secret', gatewayWorkerSecretKey: 'secret' });

function build(spec: GatewayClusterSpecInput = {}): KubeObject[] {
  const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec: gatewayClusterSpec.parse(spec) };
  return desiredChildren(cluster, ctx);
}

const named = (children: KubeObject[], kind: string, name: string): any => children.find((c) => c.kind === kind && c.metadata.name === name);
const podOf = (children: KubeObject[], kind: string, name: string) => named(children, kind, name).spec.template.spec;
const envOf = (pod: any) => ({ ...Object.fromEntries(pod.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value])), GWC_LAN_IP: '10.0.0.5' });

describe('builders: GatewayWorker compatibility', () => {
  it('is off by default: no compat port, setting, Secret mount or policy rule', () => {
    const children = build();
    assert.equal(gatewayClusterSpec.parse({}).gatewayWorkerCompat.enabled, false);
    const text = JSON.stringify(children);
    assert.ok(!text.includes('GATEWAYWORKER') && !text.includes('gatewayworker'), 'nothing of it anywhere');
    assert.equal(loadSettings('gateway', gatewaySettings, [], envOf(podOf(children, 'StatefulSet', 'chat-gateway'))).gatewayWorkerCompat, false);
  });

  it('turns it on in the Register and the gateways, with the compat secret as a file and the port on the Register Service', () => {
    const children = build({ gatewayWorkerCompat: { enabled: true } });
    const port = defaultOf(registerSettings.gatewayWorkerPort);
    const register = podOf(children, 'Deployment', 'chat-register');
    const registerEnv = envOf(register);
    const settings = loadSettings('register', registerSettings, [], registerEnv);
    assert.equal(settings.gatewayWorkerCompat, true);
    assert.equal(settings.gatewayWorkerPort, port);
    assert.equal(settings.gatewayWorkerSecretFile, '/etc/gwc/gatewayworker/secret');
    assert.notEqual(settings.gatewayWorkerSecretFile, settings.secretFile, 'a secret of its own');
    assert.ok(register.containers[0].ports.some((p: any) => p.name === 'gatewayworker' && p.containerPort === port));
    assert.ok(register.volumes.some((v: any) => v.name === 'gatewayworker-secret' && v.secret.secretName === 'chat-gatewayworker-secret' && v.secret.defaultMode === 0o400));
    const service = named(children, 'Service', 'chat-register');
    assert.ok(service.spec.ports.some((p: any) => p.name === 'gatewayworker' && p.port === port && p.targetPort === 'gatewayworker'));

    const gateway = podOf(children, 'StatefulSet', 'chat-gateway');
    const gatewayValues = loadSettings('gateway', gatewaySettings, [], envOf(gateway));
    assert.equal(gatewayValues.gatewayWorkerCompat, true);
    assert.equal(gatewayValues.gatewayWorkerSecretFile, '/etc/gwc/gatewayworker/secret');
    assert.ok(gateway.containers[0].volumeMounts.some((m: any) => m.name === 'gatewayworker-secret' && m.readOnly));
    // Workers and the HTTP API never get it.
    for (const [kind, name] of [['StatefulSet', 'chat-worker'], ['Deployment', 'chat-api']] as const) {
      assert.ok(!JSON.stringify(named(children, kind, name)).includes('gatewayworker'), `${name} has no compat secret`);
    }
  });

  it('keeps the compat port to the same peers as the internal ports', () => {
    const children = build({ gatewayWorkerCompat: { enabled: true, port: 1300 }, networkPolicy: { internalFrom: [{ ipBlock: { cidr: '10.1.0.0/16' } }] } });
    const rules = named(children, 'NetworkPolicy', 'chat-internal').spec.ingress;
    const internal = rules.find((rule: any) => rule.ports.some((p: any) => p.port === 1236));
    assert.deepEqual(internal.ports.map((p: any) => p.port), [1236, 2900, 1300]);
    assert.ok(internal.from.some((peer: any) => peer.ipBlock?.cidr === '10.1.0.0/16'));
    assert.ok(!rules.some((rule: any) => rule !== internal && rule.ports.some((p: any) => p.port === 1300)), 'in no other rule');
  });
});
