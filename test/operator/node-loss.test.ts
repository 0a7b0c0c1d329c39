/**
 * The operator replaces pods stuck on a lost node, on a real API server with the real StatefulSet, ReplicaSet and
 * Deployment controllers. There is no kubelet and no scheduler here: the nodes are stand-ins, Node objects whose
 * status the test writes as a kubelet and the node lifecycle controller would, and the test binds pods to them as a
 * scheduler would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import { UNREACHABLE_TAINT } from '../../operator/controller/lost-nodes.js';
import { KubeClient, type KubeObject } from '../../operator/kube/kube-client.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const ns = 'node-loss';
type Ready = 'True' | 'False' | 'Unknown';

describe('the operator after a node loss, on a real API server with stand-in nodes', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  let api: KubeClient;

  /** A Node object with no kubelet behind it, Ready to begin with. */
  async function standInNode(name: string): Promise<void> {
    await api.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'gatewaycluster.dev/test': 'stand-in-node' } } });
    await setNode(name, 'True');
  }

  /** What a kubelet (True, False) or the node lifecycle controller (Unknown, with the unreachable taints) writes. */
  async function setNode(name: string, ready: Ready): Promise<void> {
    const now = new Date().toISOString();
    const condition = { type: 'Ready', status: ready, reason: `StandIn${ready}`, message: 'written by the test', lastHeartbeatTime: now, lastTransitionTime: now };
    await api.request('PATCH', `/api/v1/nodes/${name}/status`, { status: { conditions: [condition] } }, 'application/merge-patch+json');
    const taints = ready === 'Unknown' ? ['NoSchedule', 'NoExecute'].map((effect) => ({ key: UNREACHABLE_TAINT, effect, timeAdded: now })) : null;
    await api.request('PATCH', `/api/v1/nodes/${name}`, { spec: { taints } }, 'application/merge-patch+json');
  }

  const pods = async (cluster: string): Promise<KubeObject[]> =>
    (await api.get<{ items: KubeObject[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=app.kubernetes.io/instance=${cluster}`)).items;

  /** Waits for the pods named to exist (Register and API pods by their prefix) and binds each to its node. */
  async function placePods(cluster: string, placement: Record<string, string>): Promise<Record<string, KubeObject>> {
    const placed = await waitFor(`the pods of ${cluster}`, async () => {
      const found = await pods(cluster);
      const byName: Record<string, KubeObject> = {};
      for (const name of Object.keys(placement)) {
        const pod = found.find((p) => p.metadata.name === name || p.metadata.name.startsWith(`${name}-`));
        if (!pod) return undefined;
        byName[name] = pod;
      }
      return byName;
    }, 30_000, 200);
    for (const [name, node] of Object.entries(placement)) {
      const pod = placed[name]!.metadata.name;
      await api.create(`/api/v1/namespaces/${ns}/pods/${pod}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
    }
    return placed;
  }

  /** Whether the pod with this uid still exists. */
  const exists = async (pod: KubeObject) => (await pods(pod.metadata.labels!['app.kubernetes.io/instance']!)).some((p) => p.metadata.uid === pod.metadata.uid);

  async function forceDeletions(): Promise<Record<string, number>> {
    const metric = await controller.metrics.podsForceDeleted.get();
    return Object.fromEntries(metric.values.map((v) => [`${v.labels.reason}/${v.labels.component}`, v.value]));
  }

  const events = async (name: string, reason: string) =>
    (await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items;

  before(async () => {
    fixture = await OperatorFixture.start();
    api = new KubeClient(fixture.kc);
    await fixture.createNamespace(ns);
    for (const node of ['stand-in-ready', 'stand-in-lost', 'stand-in-flapping', 'stand-in-off', 'stand-in-deleted', 'stand-in-stale']) await standInNode(node);
    ({ controller } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('force-deletes the pods of a node lost past spec.nodeLossTimeout, says so, and leaves those on Ready nodes and on a node Ready again in time', async () => {
    const timeoutSeconds = 4;
    await fixture.createCluster(ns, 'heal', { nodeLossTimeout: timeoutSeconds, gateway: { replicas: 3 }, worker: { replicas: 3 } });
    const placed = await placePods('heal', {
      'heal-gateway-0': 'stand-in-ready',
      'heal-worker-0': 'stand-in-ready',
      'heal-api': 'stand-in-ready',
      'heal-gateway-1': 'stand-in-lost',
      'heal-worker-1': 'stand-in-lost',
      'heal-register': 'stand-in-lost',
      'heal-gateway-2': 'stand-in-flapping',
      'heal-worker-2': 'stand-in-flapping',
    });
    await fixture.waitForCondition(ns, 'heal', 'NodeLoss', 'False');

    const lostAt = Date.now();
    await setNode('stand-in-lost', 'Unknown');
    await setNode('stand-in-flapping', 'False');
    const { condition } = await waitFor('NodeLoss to name the pods of both nodes', async () => {
      const found = await fixture.waitForCondition(ns, 'heal', 'NodeLoss', 'True');
      return /heal-gateway-2/.test(found.condition.message) && /heal-gateway-1/.test(found.condition.message) ? found : undefined;
    }, 30_000, 100);
    assert.match(condition.message, /heal-gateway-1, heal-register-\S+, heal-worker-1 on node stand-in-lost, lost \(NodeUnreachable\) since /);
    assert.match(condition.message, /heal-gateway-2, heal-worker-2 on node stand-in-flapping, lost \(NodeNotReady\)/);
    assert.match(condition.message, new RegExp(`force-deleted ${timeoutSeconds} s after that \\(spec.nodeLossTimeout\\)`));
    assert.equal((await events('heal', 'NodeLost')).length >= 1, true, 'a Warning event when the node is first seen lost');
    // Back before the timeout: the lost node's pods, counted from the same moment, are the proof that it passed.
    await setNode('stand-in-flapping', 'True');

    const lost = ['heal-gateway-1', 'heal-worker-1', 'heal-register'].map((name) => placed[name]!);
    await waitFor('the lost node\'s pods to be deleted', async () => (await Promise.all(lost.map(exists))).every((found) => !found), 30_000, 100);
    for (const name of ['heal-gateway-1', 'heal-worker-1']) {
      const replacement = await waitFor(`${name} made again by its StatefulSet`, async () => (await pods('heal')).find((p) => p.metadata.name === name), 30_000, 100);
      assert.notEqual(replacement.metadata.uid, placed[name]!.metadata.uid);
      // creationTimestamp has whole seconds: the replacement came after the deletion, which came after the timeout.
      assert.ok(Date.parse(replacement.metadata.creationTimestamp!) > lostAt + timeoutSeconds * 1000 - 1000, `${name} not replaced before the timeout`);
    }
    await waitFor('a new Register pod from its ReplicaSet', async () => (await pods('heal')).some((p) => p.metadata.name.startsWith('heal-register-') && p.metadata.uid !== placed['heal-register']!.metadata.uid), 30_000, 100);

    const kept = ['heal-gateway-0', 'heal-worker-0', 'heal-api', 'heal-gateway-2', 'heal-worker-2'];
    for (const name of kept) assert.ok(await exists(placed[name]!), `${name} (on a Ready node, or Ready again in time) stays`);

    const replaced = await fixture.waitForCondition(ns, 'heal', 'NodeLoss', 'False');
    assert.equal(replaced.condition.reason, 'PodsReplaced');
    assert.match(replaced.condition.message, /force-deleted heal-gateway-1, heal-register-\S+, heal-worker-1 from node stand-in-lost, lost \(NodeUnreachable\) for [4-9] s/);
    const [clusterEvent] = await events('heal', 'PodsForceDeleted');
    assert.match(clusterEvent?.message ?? '', /from node stand-in-lost.*their StatefulSets and ReplicaSets start them again on other nodes/);
    const [podEvent] = await events('heal-gateway-1', 'ForceDeleted');
    assert.equal(podEvent?.involvedObject.uid, placed['heal-gateway-1']!.metadata.uid, 'an event on the deleted pod itself');
    assert.deepEqual(await forceDeletions(), { 'NodeUnreachable/gateway': 1, 'NodeUnreachable/worker': 1, 'NodeUnreachable/register': 1 });
    for (const name of kept) assert.ok(await exists(placed[name]!), `${name} still there after the deletions`);
  });

  it('replaces nothing while spec.nodeLossTimeout is 0, and says so in NodeLoss and Degraded; a cluster beside it on the same node is healed', async () => {
    await fixture.createCluster(ns, 'off', { nodeLossTimeout: 0, api: { enabled: false } });
    await fixture.createCluster(ns, 'beside', { nodeLossTimeout: 1, api: { enabled: false } });
    const off = (await placePods('off', { 'off-gateway-0': 'stand-in-off' }))['off-gateway-0']!;
    const beside = (await placePods('beside', { 'beside-gateway-0': 'stand-in-off' }))['beside-gateway-0']!;
    await setNode('stand-in-off', 'Unknown');

    await waitFor('the pod of the cluster beside to be deleted', async () => !(await exists(beside)), 30_000, 100);
    const { condition } = await fixture.waitForCondition(ns, 'off', 'NodeLoss', 'True');
    assert.equal(condition.reason, 'HealingOff');
    assert.match(condition.message, /off-gateway-0 on node stand-in-off.*stay until deleted by hand \(kubectl delete pod --force --grace-period=0\), as spec.nodeLossTimeout is 0/);
    const degraded = await fixture.waitForCondition(ns, 'off', 'Degraded', 'True');
    assert.match(degraded.condition.message, /off-gateway-0 on lost node stand-in-off \(NodeUnreachable\), not replaced: spec.nodeLossTimeout is 0/);
    assert.ok(await exists(off), 'the pod stays');

    await fixture.patchCluster(ns, 'off', { spec: { nodeLossTimeout: 1 } });
    await waitFor('the pod to be deleted once a timeout is set', async () => !(await exists(off)), 30_000, 100);
    await fixture.waitForCondition(ns, 'off', 'Degraded', 'False');
  });

  it('replaces the pods of a deleted Node object', async () => {
    await fixture.createCluster(ns, 'gone', { nodeLossTimeout: 1, api: { enabled: false } });
    const pod = (await placePods('gone', { 'gone-worker-0': 'stand-in-deleted' }))['gone-worker-0']!;
    await api.delete('/api/v1/nodes/stand-in-deleted');
    await waitFor('the pod to be deleted', async () => !(await exists(pod)), 30_000, 100);
    assert.equal((await forceDeletions())['NodeDeleted/worker'], 1);
  });

  // Last: it stops the controller's Node watch.
  it('reads the node from the API right before deleting: a stale cache that still says lost deletes nothing', async () => {
    await fixture.createCluster(ns, 'stale', { nodeLossTimeout: 3, api: { enabled: false } });
    const pod = (await placePods('stale', { 'stale-gateway-0': 'stand-in-stale' }))['stale-gateway-0']!;
    await setNode('stand-in-stale', 'Unknown');
    await fixture.waitForCondition(ns, 'stale', 'NodeLoss', 'True');
    const before = await forceDeletions();
    // A watch that stalls (it happens: a silent connection) keeps the node lost in the cache.
    controller.nodes!.stop();
    await setNode('stand-in-stale', 'True');
    const cached = controller.nodes!.get('', 'stand-in-stale')!.status as { conditions: Array<{ status: string }> };
    assert.equal(cached.conditions[0]!.status, 'Unknown', 'the cache still says lost');
    // Only the read at the deadline can tell the operator the node is Ready.
    const { condition } = await fixture.waitForCondition(ns, 'stale', 'NodeLoss', 'False', 30_000);
    assert.equal(condition.reason, 'NoLostNodes');
    assert.ok(await exists(pod), 'the pod on the node Ready again stays');
    assert.deepEqual(await forceDeletions(), before);
  });
});
