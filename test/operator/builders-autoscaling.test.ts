import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredChildren, type BuildContext, type GatewayClusterObject, type KubeObject } from '../../operator/builders/desired-children.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { buildContext } from './build-context.js';

function build(spec: GatewayClusterSpecInput, ctx: BuildContext = buildContext()): KubeObject[] {
  const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec: gatewayClusterSpec.parse(spec) };
  return desiredChildren(cluster, ctx);
}

const named = (children: KubeObject[], kind: string, name: string): any => children.find((c) => c.kind === kind && c.metadata.name === name);

describe('builders: gateway autoscaling', () => {
  it('is off by default: no autoscaler, the spec\'s replicas, whatever the StatefulSet has now', () => {
    const children = build({ gateway: { replicas: 2 } }, buildContext({ liveGatewayReplicas: 7 }));
    assert.equal(children.filter((c) => c.kind === 'HorizontalPodAutoscaler').length, 0);
    assert.equal(named(children, 'StatefulSet', 'chat-gateway').spec.replicas, 2);
  });

  it('scales the gateway StatefulSet on connections per pod, removing one gateway a minute at most', () => {
    const children = build({ gateway: { autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 8, targetConnectionsPerPod: 3000 } } });
    const hpa = named(children, 'HorizontalPodAutoscaler', 'chat-gateway');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'chat-gateway' });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 8);
    assert.deepEqual(hpa.spec.metrics, [{ type: 'Pods', pods: { metric: { name: 'gwc_gateway_connections' }, target: { type: 'AverageValue', averageValue: '3000' } } }]);
    assert.deepEqual(hpa.spec.behavior.scaleDown, { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] });
    assert.equal(hpa.metadata.labels['app.kubernetes.io/component'], 'gateway');
  });

  it('keeps the replicas the StatefulSet has while autoscaled, and starts from spec.gateway.replicas', () => {
    const spec = { gateway: { replicas: 1, autoscaling: { enabled: true, maxReplicas: 4 } } };
    assert.equal(named(build(spec, buildContext({ liveGatewayReplicas: 3 })), 'StatefulSet', 'chat-gateway').spec.replicas, 3);
    assert.equal(named(build(spec), 'StatefulSet', 'chat-gateway').spec.replicas, 1, 'no StatefulSet yet');
  });

  it('guards drains with a PodDisruptionBudget when the autoscaler may run more than one gateway', () => {
    assert.ok(named(build({ gateway: { replicas: 1, autoscaling: { enabled: true, maxReplicas: 3 } } }), 'PodDisruptionBudget', 'chat-gateway'));
    assert.equal(named(build({ gateway: { replicas: 3, autoscaling: { enabled: true, maxReplicas: 1 } } }), 'PodDisruptionBudget', 'chat-gateway'), undefined);
  });
});
