import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiUrl, desiredChildren, type BuildContext, type GatewayClusterObject, type KubeObject } from '../../operator/builders/desired-children.js';
import { MAX_NAME_LENGTH } from '../../operator/crd/gateway-cluster-crd.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { apiSettings } from '../../runtime/config/role-settings.js';
import { loadSettings } from '../../runtime/config/settings.js';
import { buildContext } from './build-context.js';

const ctx = buildContext();

function build(spec: GatewayClusterSpecInput = {}): KubeObject[] {
  const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec: gatewayClusterSpec.parse(spec) };
  return desiredChildren(cluster, ctx);
}

const named = (children: KubeObject[], kind: string, name: string): any => children.find((c) => c.kind === kind && c.metadata.name === name);

describe('builders: the HTTP API', () => {
  it('runs by default: one replica and a ClusterIP Service on 7280 to the container port', () => {
    const children = build();
    const deployment = named(children, 'Deployment', 'chat-api');
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.selector.matchLabels['app.kubernetes.io/component'], 'api');
    const container = deployment.spec.template.spec.containers[0];
    assert.deepEqual(container.args, ['api']);
    assert.deepEqual(container.ports.map((p: any) => `${p.name}:${p.containerPort}`), ['api:7280', 'metrics:9280']);
    const service = named(children, 'Service', 'chat-api');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports.map((p: any) => `${p.name}:${p.port}->${p.targetPort}`), ['api:7280->api', 'metrics:9280->metrics']);
    assert.equal(service.spec.selector['app.kubernetes.io/component'], 'api');
  });

  it('gives the pod its keys as a mounted file, and the shared secret, which the runtime loads as they are', () => {
    const pod = named(build({ api: { port: 8080 } }), 'Deployment', 'chat-api').spec.template.spec;
    const container = pod.containers[0];
    const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    assert.equal(env.GWC_API_KEY_FILE, '/etc/gwc/api-key/keys');
    assert.ok(pod.volumes.some((v: any) => v.name === 'api-key' && v.secret.secretName === 'chat-api-key' && v.secret.defaultMode === 0o400));
    assert.ok(container.volumeMounts.some((m: any) => m.name === 'api-key' && m.mountPath === '/etc/gwc/api-key' && m.readOnly));
    const settings = loadSettings('api', apiSettings, [], env);
    assert.equal(settings.port, 8080);
    assert.equal(settings.apiKeyFile, '/etc/gwc/api-key/keys');
    assert.deepEqual(settings.registerAddress, ['chat-register.apps.svc:1236']);
    assert.equal(settings.metricsPort, 9280);
  });

  it('follows spec.api: replicas, Service type and port, or nothing at all when disabled', () => {
    const children = build({ api: { replicas: 3, service: { type: 'LoadBalancer', port: 80, annotations: { a: 'b' } } } });
    assert.equal(named(children, 'Deployment', 'chat-api').spec.replicas, 3);
    const service = named(children, 'Service', 'chat-api');
    assert.equal(service.spec.type, 'LoadBalancer');
    assert.equal(service.spec.ports[0].port, 80);
    assert.deepEqual(service.metadata.annotations, { a: 'b' });
    const without = build({ api: { enabled: false } });
    assert.equal(without.filter((c) => c.metadata.name === 'chat-api').length, 0);
    const policy = named(without, 'NetworkPolicy', 'chat-internal');
    assert.ok(!JSON.stringify(policy.spec.ingress).includes('7280'), 'no API port opened when there is no API');
  });

  it('opens the API port to any peer in the NetworkPolicy (requests carry a key), the internal ports stay closed', () => {
    const policy = named(build(), 'NetworkPolicy', 'chat-internal');
    const open = policy.spec.ingress.find((rule: any) => rule.from === undefined && rule.ports.some((p: any) => p.port === 7280));
    assert.ok(open, JSON.stringify(policy.spec.ingress));
    assert.ok(!open.ports.some((p: any) => p.port === 2900 || p.port === 1236));
  });

  it('keeps every child\'s name within 63 characters for the longest name the CRD takes', () => {
    const name = 'n'.repeat(MAX_NAME_LENGTH);
    const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace: 'apps', uid: 'u' }, spec: gatewayClusterSpec.parse({ gateway: { replicas: 2, autoscaling: { enabled: true } }, worker: { replicas: 2 } }) };
    const children = desiredChildren(cluster, buildContext({ serviceMonitorAvailable: true }));
    for (const child of children) {
      const longest = child.kind === 'StatefulSet' ? child.metadata.name.length + 11 : child.metadata.name.length; // + the revision hash
      assert.ok(longest <= 63, `${child.kind} ${child.metadata.name}: ${longest}`);
    }
    assert.ok(children.length >= 10);
  });

  it('names the API URL backends call', () => {
    const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec: gatewayClusterSpec.parse({}) };
    assert.equal(apiUrl(cluster), 'http://chat-api.apps.svc:7280/v1/');
  });
});
