/**
 * The user's path, end to end on the test control plane with the process kubelet: helm install the chart (the
 * operator runs as a pod), kubectl apply the chat example, chat across two gateways, scale workers, lose the
 * Register, scale gateways down, uninstall.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../control-plane/binaries.js';
import type { ProcessKubelet } from '../kubelet/process-kubelet.js';
import { scrapeMetric } from '../harness/metrics.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from '../operator/operator-fixture.js';

const system = 'gwc-system';
const ns = 'demo';

interface Say {
  type: 'say';
  content: string;
  from_client_name: string;
}

/** A chat user: a WebSocket to one gateway pod, logged in to the lobby. */
async function chatter(ip: string, name: string): Promise<WsTestClient> {
  const client = await WsTestClient.open(`ws://${ip}:7272/`);
  client.send(JSON.stringify({ type: 'login', name, room: 'lobby' }));
  try {
    await client.nextJson('login', 10_000);
  } catch (error) {
    throw new Error(`${name} could not log in at ${ip} (received: ${JSON.stringify(client.inbox)}, closed: ${client.closed}): ${(error as Error).message}`);
  }
  return client;
}

function metric(ip: string, port: number, name: string): Promise<number> {
  return scrapeMetric(`http://${ip}:${port}/metrics`, name);
}

describe('helm install, kubectl apply, scale, survive', () => {
  let fixture: OperatorFixture;
  let kubelet: ProcessKubelet;
  const clients: WsTestClient[] = [];
  let ann: WsTestClient;
  let bob: WsTestClient;

  const ip = (pod: string) => {
    const found = kubelet.podIp(ns, pod);
    assert.ok(found, `${pod} has a pod IP`);
    return found;
  };
  const status = async () => (await fixture.getCluster(ns, 'chat')).status ?? {};
  /** Ann says `content` and Bob must hear it. */
  async function annToBob(content: string): Promise<void> {
    ann.send(JSON.stringify({ type: 'say', to: 'all', content }));
    await bob.next((m) => m.includes(`"content":"${content}"`), 10_000);
  }

  before(async () => {
    fixture = await OperatorFixture.start({ installCrd: false });
    await fixture.createNamespace(system);
    await fixture.createNamespace(ns);
    kubelet = await fixture.startKubelet([system, ns], '127.130');
  });

  after(async () => {
    for (const client of clients) client.close();
    await kubelet?.stop();
    await fixture?.stop();
  });

  it('helm install runs the operator as a pod, with its CRD', async () => {
    // No --wait: Helm 4's status watcher never saw the Deployment become available here (it does, in seconds).
    fixture.helm('install', 'gwc', path.join(repoRoot, 'charts/gateway-cluster'), '-n', system, '--set', 'replicaCount=1');
    await waitFor('the operator Deployment to be available', async () => {
      const deployment = await fixture.read(`/apis/apps/v1/namespaces/${system}/deployments/gwc-gateway-cluster`);
      return deployment?.status?.availableReplicas === 1;
    }, 120_000, 250);
    const pods = await fixture.core.listNamespacedPod({ namespace: system, labelSelector: 'app.kubernetes.io/name=gateway-cluster-operator' });
    assert.equal(pods.items.length, 1);
    assert.match(pods.items[0]!.status!.podIP!, /^127\.130\./);
    assert.match(fixture.kubectl('get', 'crd', 'gatewayclusters.gatewaycluster.dev', '-o', 'name'), /gatewayclusters/);
  });

  it('kubectl apply the chat example: every role runs on its own pod IP', async () => {
    fixture.kubectl('-n', ns, 'apply', '-f', path.join(repoRoot, 'examples/chat.yaml'));
    await fixture.waitForCondition(ns, 'chat', 'Ready', 'True', 120_000);
    const ips = ['chat-gateway-0', 'chat-gateway-1', 'chat-worker-0', 'chat-worker-1'].map(ip);
    assert.equal(new Set(ips).size, 4, `distinct pod IPs: ${ips.join(', ')}`);
  });

  it('clients on two gateways chat with each other', async () => {
    ann = await chatter(ip('chat-gateway-0'), 'Ann');
    bob = await chatter(ip('chat-gateway-1'), 'Bob');
    clients.push(ann, bob);
    await annToBob('hello across gateways');
  });

  it('kubectl scale: the new workers receive and handle messages', async () => {
    fixture.kubectl('-n', ns, 'scale', 'gwc/chat', '--replicas=4');
    await waitFor('4 ready workers in status', async () => (await status()).workersReady === '4/4', 120_000, 250);
    for (const gateway of ['chat-gateway-0', 'chat-gateway-1']) {
      await waitFor(`${gateway} to route to 4 workers`, async () => (await metric(ip(gateway), 9272, 'gwc_gateway_workers')) === 4, 30_000, 200);
    }
    const before = await Promise.all([2, 3].map((n) => metric(ip(`chat-worker-${n}`), 9300, 'gwc_worker_events_handled_total')));
    // New clients are spread round-robin over the workers, on each gateway.
    for (let i = 0; i < 8; i++) clients.push(await chatter(ip(`chat-gateway-${i % 2}`), `guest${i}`));
    await annToBob('after scaling');
    const handled = await Promise.all([0, 1, 2, 3].map((n) => metric(ip(`chat-worker-${n}`), 9300, 'gwc_worker_events_handled_total')));
    assert.ok(handled[2]! > before[0]! && handled[3]! > before[1]!, `new workers handled events: ${handled.join(', ')}`);
  });

  it('the Register pod is deleted and recreated while clients chat, and nothing is lost', async () => {
    const register = (await fixture.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=register' })).items[0]!;
    const deleting = fixture.core.deleteNamespacedPod({ namespace: ns, name: register.metadata!.name! });
    for (let i = 0; i < 20; i++) ann.send(JSON.stringify({ type: 'say', to: 'all', content: `during-${i}` }));
    await deleting;
    await waitFor('a new Register pod, ready', async () => {
      const pods = (await fixture.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=register' })).items;
      return pods.some((p) => p.metadata!.uid !== register.metadata!.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    }, 90_000, 250);
    for (let i = 20; i < 40; i++) ann.send(JSON.stringify({ type: 'say', to: 'all', content: `during-${i}` }));
    for (let i = 0; i < 40; i++) await bob.next((m) => m.includes(`"content":"during-${i}"`), 15_000);
    for (const gateway of ['chat-gateway-0', 'chat-gateway-1']) {
      await waitFor(`${gateway} back with the new Register`, async () => (await metric(ip(gateway), 9272, 'gwc_gateway_register_connected')) === 1, 30_000, 250);
    }
    await annToBob('after the register came back');
  });

  it('gateways scaled from 2 to 1: the removed one closes its clients with 1012 and they reconnect', async () => {
    const survivor = ip('chat-gateway-0');
    fixture.kubectl('-n', ns, 'patch', 'gwc', 'chat', '--type=merge', '-p', '{"spec":{"gateway":{"replicas":1}}}');
    await bob.waitClosed(90_000);
    assert.equal(bob.closeCode, 1012, 'service restart');
    bob = await chatter(survivor, 'Bob');
    clients.push(bob);
    await annToBob('after the gateway left');
    await waitFor('status to show one gateway', async () => (await status()).gatewaysReady === '1/1', 60_000, 250);
  });

  it('the ConfigMap handler example runs its handler from the ConfigMap', async () => {
    fixture.kubectl('-n', ns, 'apply', '-f', path.join(repoRoot, 'examples/configmap-handler.yaml'));
    await fixture.waitForCondition(ns, 'shout', 'Ready', 'True', 120_000);
    const listener = await WsTestClient.open(`ws://${ip('shout-gateway-0')}:7272/`);
    const speaker = await WsTestClient.open(`ws://${ip('shout-gateway-0')}:7272/`);
    clients.push(listener, speaker);
    await speaker.nextJson('welcome', 10_000);
    speaker.send('hello from a configmap');
    const shout = await listener.nextJson<{ text: string }>('shout', 10_000);
    assert.equal(shout.text, 'HELLO FROM A CONFIGMAP');
    fixture.kubectl('-n', ns, 'delete', '-f', path.join(repoRoot, 'examples/configmap-handler.yaml'), '--wait=true', '--timeout=120s');
  });

  it('deleting the GatewayCluster and helm uninstall leave nothing behind', async () => {
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'chat', '--wait=true', '--timeout=120s');
    fixture.helm('uninstall', 'gwc', '-n', system);
    await waitFor('every pod gone and every process stopped', async () => {
      const pods = await Promise.all([ns, system].map((namespace) => fixture.core.listNamespacedPod({ namespace })));
      return pods.every((list) => list.items.length === 0) && kubelet.processes().length === 0;
    }, 120_000, 250);
    const leftovers = fixture.kubectl('get', 'deployments,statefulsets,services,secrets,poddisruptionbudgets,serviceaccounts,roles,rolebindings',
      '-n', ns, '-l', 'app.kubernetes.io/managed-by=gateway-cluster-operator', '-o', 'name').trim();
    assert.equal(leftovers, '');
    const operatorLeftovers = fixture.kubectl('get', 'deployments,services,serviceaccounts,roles,rolebindings', '-n', system, '-l', 'app.kubernetes.io/instance=gwc', '-o', 'name').trim();
    assert.equal(operatorLeftovers, '');
    assert.equal(fixture.kubectl('get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=gwc', '-o', 'name').trim(), '');
  });
});
