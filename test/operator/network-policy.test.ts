import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const ns = 'netpol-test';
const policyPath = `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/guarded-internal`;

describe('the NetworkPolicy of a GatewayCluster, on a real control plane', () => {
  let fixture: OperatorFixture;
  let controller: Controller;

  before(async () => {
    fixture = await OperatorFixture.start();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('is created by default, accepted by the API server as built, and owned by the cluster', async () => {
    await fixture.createCluster(ns, 'guarded', {});
    const policy = await waitFor('the NetworkPolicy', () => fixture.read(policyPath), 30_000, 200);
    assert.equal(policy.metadata.ownerReferences[0].name, 'guarded');
    assert.deepEqual(policy.spec.ingress[0].ports.map((p: { port: number }) => p.port), [1236, 2900]);
    assert.deepEqual(policy.spec.ingress[1].ports.map((p: { port: number }) => p.port), [7272, 7280]);
    assert.equal(policy.spec.ingress[1].from, undefined, 'the client port and the HTTP API are open');
    const gateway = await fixture.read(`/apis/apps/v1/namespaces/${ns}/statefulsets/guarded-gateway`);
    assert.equal(gateway.spec.template.spec.automountServiceAccountToken, false);
    const table = fixture.kubectl('-n', ns, 'describe', 'networkpolicy', 'guarded-internal');
    assert.match(table, /gatewaycluster\.dev\/api-client=guarded/);
  });

  it('is deleted when turned off, and comes back when turned on', async () => {
    await fixture.patchCluster(ns, 'guarded', { spec: { networkPolicy: { enabled: false } } });
    await waitFor('the NetworkPolicy to be deleted', async () => (await fixture.read(policyPath)) === undefined, 30_000, 200);
    await fixture.patchCluster(ns, 'guarded', { spec: { networkPolicy: { enabled: true } } });
    await waitFor('the NetworkPolicy to come back', () => fixture.read(policyPath), 30_000, 200);
  });
});
