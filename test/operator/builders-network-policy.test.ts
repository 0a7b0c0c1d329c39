import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_CLIENT_LABEL, desiredChildren, type GatewayClusterObject, type KubeObject } from '../../operator/builders/desired-children.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { buildContext } from './build-context.js';

const ctx = buildContext();
const build = (spec: GatewayClusterSpecInput = {}): KubeObject[] => {
  const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u-1' }, spec: gatewayClusterSpec.parse(spec) };
  return desiredChildren(cluster, ctx);
};
const policyOf = (children: KubeObject[]): any => children.find((c) => c.kind === 'NetworkPolicy');
const instance = { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': 'chat' };

describe('builders: NetworkPolicy', () => {
  it('by default: internal ports from the cluster\'s own pods and labelled API clients, the client and metrics ports open', () => {
    const policy = policyOf(build({ register: { port: 1300 }, gateway: { internalPort: 2950, clientPort: 8000 } }));
    assert.equal(policy.metadata.name, 'chat-internal');
    assert.equal(policy.metadata.ownerReferences[0].kind, 'GatewayCluster');
    assert.deepEqual(policy.spec.podSelector, { matchLabels: instance });
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    const [internal, client, metrics] = policy.spec.ingress;
    assert.deepEqual(internal.ports, [{ protocol: 'TCP', port: 1300 }, { protocol: 'TCP', port: 2950 }]);
    assert.deepEqual(internal.from, [{ podSelector: { matchLabels: instance } }, { podSelector: { matchLabels: { [API_CLIENT_LABEL]: 'chat' } } }]);
    assert.deepEqual(client, { ports: [{ protocol: 'TCP', port: 8000 }, { protocol: 'TCP', port: 7280 }] }, 'no from: anyone (the API checks keys)');
    assert.deepEqual(metrics, { ports: [9236, 9272, 9300, 9280].map((port) => ({ protocol: 'TCP', port })) });
  });

  it('adds the peers the spec names, for the internal and for the metrics ports', () => {
    const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const backend = { namespaceSelector: { matchLabels: { team: 'web' } }, podSelector: { matchLabels: { app: 'backend' } } };
    const policy = policyOf(build({ networkPolicy: { internalFrom: [backend], metricsFrom: [monitoring] } }));
    assert.deepEqual(policy.spec.ingress[0].from.at(-1), backend);
    assert.deepEqual(policy.spec.ingress[2].from, [monitoring]);
  });

  it('none when spec.networkPolicy.enabled is false', () => {
    assert.equal(policyOf(build({ networkPolicy: { enabled: false } })), undefined);
  });

  it('no operand pod gets a service account token', () => {
    const workloads = build().filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet') as any[];
    assert.equal(workloads.length, 4);
    for (const workload of workloads) assert.equal(workload.spec.template.spec.automountServiceAccountToken, false, workload.metadata.name);
  });
});
