import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredChildren, type BuildContext, type KubeObject } from '../../operator/builders/desired-children.js';
import { referenceProblems } from '../../operator/controller/references.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { KubeApiError, type KubeClient } from '../../operator/kube/kube-client.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { gatewaySettings, registerSettings } from '../../runtime/config/role-settings.js';
import { loadSettings } from '../../runtime/config/settings.js';
import { buildContext } from './build-context.js';

const ctx = buildContext();
const ROLES = { register: ['Deployment', 'chat-register'], gateway: ['StatefulSet', 'chat-gateway'], worker: ['StatefulSet', 'chat-worker'] } as const;
const TLS_VARIABLES = /^GWC_(INTERNAL_)?TLS_/;

/** The pod spec of each role built for `spec`. */
function pods(spec: GatewayClusterSpecInput): Record<keyof typeof ROLES, any> {
  const cluster = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u-1' }, spec: gatewayClusterSpec.parse(spec) };
  const children = desiredChildren(cluster, ctx) as KubeObject[];
  const podOf = ([kind, name]: readonly [string, string]) => (children.find((c) => c.kind === kind && c.metadata.name === name) as any).spec.template.spec;
  return { register: podOf(ROLES.register), gateway: podOf(ROLES.gateway), worker: podOf(ROLES.worker) };
}

const tlsEnvOf = (pod: any): Record<string, string> =>
  Object.fromEntries((pod.containers[0].env as Array<{ name: string; value: string }>).filter((e) => TLS_VARIABLES.test(e.name)).map((e) => [e.name, e.value]));
const volume = (pod: any, name: string) => (pod.volumes as Array<{ name: string }>).find((v) => v.name === name);
const mount = (pod: any, name: string) => (pod.containers[0].volumeMounts as Array<{ name: string }>).find((m) => m.name === name);

describe('builders: TLS Secrets in the pods', () => {
  it('adds no TLS volume or variable when the spec names no TLS Secret', () => {
    for (const pod of Object.values(pods({}))) {
      assert.deepEqual(tlsEnvOf(pod), {});
      assert.deepEqual(pod.volumes.map((v: { name: string }) => v.name), pod.containers[0].volumeMounts.map((m: { name: string }) => m.name));
      assert.ok(!volume(pod, 'client-tls') && !volume(pod, 'internal-tls'));
    }
  });

  it('gateway.tlsSecretName: the whole Secret read-only at /etc/gwc/client-tls, and the two file settings, on gateways only', () => {
    const { register, gateway, worker } = pods({ gateway: { tlsSecretName: 'chat-tls' } });
    assert.deepEqual(volume(gateway, 'client-tls'), { name: 'client-tls', secret: { secretName: 'chat-tls', defaultMode: 0o400 } });
    assert.deepEqual(mount(gateway, 'client-tls'), { name: 'client-tls', mountPath: '/etc/gwc/client-tls', readOnly: true });
    assert.equal((mount(gateway, 'client-tls') as Record<string, unknown>).subPath, undefined, 'a subPath mount would never see a renewal');
    assert.deepEqual(tlsEnvOf(gateway), { GWC_TLS_CERT: '/etc/gwc/client-tls/tls.crt', GWC_TLS_KEY: '/etc/gwc/client-tls/tls.key' });
    for (const other of [register, worker]) {
      assert.equal(volume(other, 'client-tls'), undefined);
      assert.deepEqual(tlsEnvOf(other), {});
    }
  });

  it('internalTls: the Secret at /etc/gwc/internal-tls with certificate, key and CA settings, in every role', () => {
    const all = pods({ internalTls: { secretName: 'chat-internal' }, gateway: { tlsSecretName: 'chat-tls' } });
    for (const [role, pod] of Object.entries(all)) {
      assert.deepEqual(volume(pod, 'internal-tls'), { name: 'internal-tls', secret: { secretName: 'chat-internal', defaultMode: 0o400 } }, role);
      assert.deepEqual(mount(pod, 'internal-tls'), { name: 'internal-tls', mountPath: '/etc/gwc/internal-tls', readOnly: true }, role);
      const env = tlsEnvOf(pod);
      assert.equal(env.GWC_INTERNAL_TLS_CERT, '/etc/gwc/internal-tls/tls.crt', role);
      assert.equal(env.GWC_INTERNAL_TLS_KEY, '/etc/gwc/internal-tls/tls.key', role);
      assert.equal(env.GWC_INTERNAL_TLS_CA, '/etc/gwc/internal-tls/ca.crt', role);
    }
    assert.deepEqual(all.gateway.volumes.map((v: { name: string }) => v.name), ['secret', 'client-tls', 'internal-tls']);
  });

  it('sets variables the runtime reads as its TLS settings', () => {
    const { register, gateway } = pods({ internalTls: { secretName: 'chat-internal' }, gateway: { tlsSecretName: 'chat-tls' } });
    const parsed = loadSettings('gateway', gatewaySettings, [], tlsEnvOf(gateway));
    assert.equal(parsed.tlsCert, '/etc/gwc/client-tls/tls.crt');
    assert.equal(parsed.tlsKey, '/etc/gwc/client-tls/tls.key');
    assert.equal(parsed.internalTlsCa, '/etc/gwc/internal-tls/ca.crt');
    assert.equal(loadSettings('register', registerSettings, [], tlsEnvOf(register)).internalTlsCert, '/etc/gwc/internal-tls/tls.crt');
  });

  it('refuses an internalTls without a valid secretName', () => {
    assert.equal(gatewayClusterSpec.safeParse({ internalTls: {} }).success, false);
    assert.equal(gatewayClusterSpec.safeParse({ internalTls: { secretName: 'Not_A_Name' } }).success, false);
  });
});

describe('reconciler: TLS Secrets the spec names', () => {
  const client = (secrets: Record<string, Record<string, string>>) =>
    ({
      async get(path: string) {
        const name = decodeURIComponent(path.split('/').at(-1)!);
        if (!secrets[name]) throw new KubeApiError(404, 'NotFound', `secrets "${name}" not found`);
        return { data: secrets[name] };
      },
    }) as unknown as KubeClient;
  const spec = gatewayClusterSpec.parse({ gateway: { tlsSecretName: 'chat-tls' }, internalTls: { secretName: 'chat-internal' } });

  const tlsSecretProblems = async (...args: Parameters<typeof referenceProblems>) => (await referenceProblems(...args)).map((problem) => problem.message);

  it('reports a missing Secret and missing keys, each naming the spec field', async () => {
    assert.deepEqual(await tlsSecretProblems(client({ 'chat-internal': { 'tls.crt': 'x', 'tls.key': 'x' } }), 'apps', spec), [
      'Secret chat-tls (spec.gateway.tlsSecretName) not found',
      'Secret chat-internal (spec.internalTls.secretName) has no ca.crt',
    ]);
  });

  it('reports nothing when the Secrets hold their keys, or when the spec names none', async () => {
    const full = { 'tls.crt': 'x', 'tls.key': 'x', 'ca.crt': 'x' };
    assert.deepEqual(await tlsSecretProblems(client({ 'chat-tls': full, 'chat-internal': full }), 'apps', spec), []);
    assert.deepEqual(await tlsSecretProblems(client({}), 'apps', gatewayClusterSpec.parse({})), []);
  });
});
