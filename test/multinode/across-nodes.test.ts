/**
 * A GatewayCluster across the three nodes of the test cluster, with its NetworkPolicy in force (kube-router on every
 * node): three gateways and three workers spread one per node by the default topology spread, the Register and the
 * HTTP API wherever they land. Clients on every gateway chat with each other, the HTTP API reaches clients on every
 * node, workers answer clients of gateways on other nodes, and client ids name pod IPs of three nodes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { METRICS_PORTS } from '../../operator/builders/addresses.js';
import { childNames } from '../../operator/builders/names.js';
import { SPREAD_TOPOLOGY_KEYS } from '../../operator/builders/pod-template.js';
import type { Controller } from '../../operator/controller/controller.js';
import { gatewayClusterSpec } from '../../operator/spec/gateway-cluster-spec.js';
import { decodeClientId } from '../../runtime/wire/client-id.js';
import { chatLogin, type ChatUser } from '../harness/chat-clients.js';
import { scrapeMetric } from '../harness/metrics.js';
import { waitFor } from '../harness/wait.js';
import { clusterNodes } from '../node/cluster-nodes.js';
import { KUBE_ROUTER_HEALTH_PORT } from '../node/network-policy-engine.js';
import { nodeOfPodIp } from '../node/node-layout.js';
import { nodeDir } from '../control-plane/testcluster-state.js';
import { OperatorFixture } from '../operator/operator-fixture.js';
import { IMAGE_ON_THE_NODES, requireNodes } from './probe-pods.js';

const ns = 'across';
const name = 'ac';
const specInput = {
  ...IMAGE_ON_THE_NODES,
  gateway: { replicas: 3 },
  worker: { replicas: 3, handler: { module: 'chat' } },
};
const spec = gatewayClusterSpec.parse(specInput);
const children = childNames(name);

interface Placed {
  name: string;
  node: string;
  ip: string;
}

describe('a GatewayCluster across three nodes, with its NetworkPolicy in force', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  let gateways: Placed[];
  let workers: Placed[];
  let register: Placed;
  /** One chat user per gateway, in gateway order. */
  const users: ChatUser[] = [];
  const extra: ChatUser[] = [];
  let apiBase: string;
  let apiKey: string;

  const gatewayUrl = (gateway: Placed) => `ws://${gateway.ip}:${spec.gateway.clientPort}/`;
  const workerHandled = (worker: Placed) => scrapeMetric(`http://${worker.ip}:${METRICS_PORTS.worker}/metrics`, 'gwc_worker_events_handled_total');

  /** POST /v1/<method> to the HTTP API through its Service, from the host (through a node's kube-proxy). */
  async function api(method: string, args: Record<string, unknown>): Promise<unknown> {
    const response = await fetch(`${apiBase}/v1/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    const body = (await response.json()) as { result?: unknown; error?: string };
    if (response.status !== 200) throw new Error(`${method}: HTTP ${response.status}: ${body.error}`);
    return body.result;
  }

  before(async () => {
    requireNodes(3);
    fixture = await OperatorFixture.onNode();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController({ namespace: ns }));
    await fixture.createCluster(ns, name, specInput);
    await fixture.waitForCondition(ns, name, 'Ready', 'True', 240_000);
    const pods = (await fixture.core.listNamespacedPod({ namespace: ns })).items.map((pod) => ({
      name: pod.metadata!.name!,
      node: pod.spec!.nodeName!,
      ip: pod.status!.podIP!,
      component: pod.metadata!.labels!['app.kubernetes.io/component'],
    }));
    gateways = pods.filter((pod) => pod.component === 'gateway').sort((a, b) => a.name.localeCompare(b.name));
    workers = pods.filter((pod) => pod.component === 'worker').sort((a, b) => a.name.localeCompare(b.name));
    register = pods.find((pod) => pod.component === 'register')!;
    // Every gateway has every worker before clients come: the workers' share of new clients is then even.
    for (const gateway of gateways) {
      await waitFor(`${gateway.name} to have ${workers.length} workers`, async () => (await scrapeMetric(`http://${gateway.ip}:${METRICS_PORTS.gateway}/metrics`, 'gwc_gateway_workers')) === workers.length, 60_000, 250);
    }
    const service = (await fixture.read(`/api/v1/namespaces/${ns}/services/${children.api}`)).spec;
    apiBase = `http://${service.clusterIP}:${service.ports[0].port}`;
    const secret = await fixture.core.readNamespacedSecret({ namespace: ns, name: children.apiKeySecret });
    apiKey = Buffer.from(secret.data!.keys!, 'base64').toString().trim().split('\n')[0]!;
  });

  after(async () => {
    for (const user of [...users, ...extra]) user.client.close();
    controller?.stop();
    await fixture?.stop();
  });

  it('three gateways land on three nodes, and three workers too; kube-router enforces the cluster\'s policy on every node', async () => {
    assert.equal(new Set(gateways.map((gateway) => gateway.node)).size, 3, `gateways on ${gateways.map((g) => g.node).join(', ')}`);
    assert.equal(new Set(workers.map((worker) => worker.node)).size, 3, `workers on ${workers.map((w) => w.node).join(', ')}`);
    // kube-scheduler's own default spread would place these three apart on an idle cluster too: what the operator
    // adds shows in the pods' constraints, which the scheduler went by.
    for (const pod of [gateways[0]!, workers[0]!]) {
      const constraints = (await fixture.read(`/api/v1/namespaces/${ns}/pods/${pod.name}`)).spec.topologySpreadConstraints as Array<{ topologyKey: string; maxSkew: number }>;
      assert.deepEqual(constraints?.map((c) => `${c.topologyKey} ${c.maxSkew}`), SPREAD_TOPOLOGY_KEYS.map((key) => `${key} 1`), pod.name);
    }
    assert.ok(await fixture.read(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${children.networkPolicy}`), 'the NetworkPolicy is there');
    for (const node of clusterNodes(nodeDir)) {
      assert.equal((await fetch(`http://${node.ip}:${KUBE_ROUTER_HEALTH_PORT}/healthz`)).status, 200, `kube-router runs on ${node.name}`);
    }
    // Gateways on the other nodes reach the Register through its Service, whose endpoint is on the Register's node.
    const elsewhere = gateways.filter((gateway) => gateway.node !== register.node);
    assert.ok(elsewhere.length >= 2);
    for (const gateway of elsewhere) {
      assert.equal(await scrapeMetric(`http://${gateway.ip}:${METRICS_PORTS.gateway}/metrics`, 'gwc_gateway_register_connected'), 1, `${gateway.name} (on ${gateway.node}) is connected to the Register (on ${register.node})`);
    }
  });

  it('clients on every gateway chat with each other, and their client ids name the gateways\' pod IPs on three nodes', async () => {
    for (const gateway of gateways) users.push(await chatLogin(gatewayUrl(gateway), `user-${gateway.node}`));
    const idNodes = users.map((user, i) => {
      const gateway = decodeClientId(user.clientId);
      assert.equal(gateway?.host, gateways[i]!.ip, `the client id ${user.clientId} names its gateway`);
      assert.equal(gateway?.port, spec.gateway.internalPort);
      return nodeOfPodIp(gateway!.host)?.name;
    });
    assert.deepEqual(idNodes, gateways.map((gateway) => gateway.node), 'each id\'s IP is in the pod range of its gateway\'s node');
    assert.equal(new Set(idNodes).size, 3);
    for (const [i, speaker] of users.entries()) {
      const content = `hello from ${gateways[i]!.node}`;
      speaker.client.send(JSON.stringify({ type: 'say', to: 'all', content }));
      for (const listener of users) await listener.client.next((m) => m.includes(`"content":"${content}"`), 15_000);
    }
  });

  it('sendToAll, sendToUid and sendToGroup from the HTTP API reach clients on every node', async () => {
    await waitFor('the HTTP API to answer through its Service', () => api('getAllClientCount', {}).then((count) => count === users.length), 60_000, 500);
    await api('sendToAll', { message: 'to all from the API' });
    for (const user of users) await user.client.next((m) => m === 'to all from the API', 10_000);
    for (const [i, user] of users.entries()) await api('bindUid', { clientId: user.clientId, uid: `uid-${i}` });
    for (const [i, user] of users.entries()) {
      await api('sendToUid', { uid: `uid-${i}`, message: `to uid-${i}` });
      await user.client.next((m) => m === `to uid-${i}`, 10_000);
    }
    for (const user of users) await api('joinGroup', { clientId: user.clientId, group: 'across' });
    assert.equal(await api('getClientCountByGroup', { group: 'across' }), users.length);
    await api('sendToGroup', { group: 'across', message: 'to the group' });
    for (const user of users) await user.client.next((m) => m === 'to the group', 10_000);
    for (const user of users) assert.ok(!user.client.inbox.some((m) => /^to uid-/.test(m)), 'each uid message reached its own client only');
  });

  it('a handler on a worker on one node answers a client of a gateway on another', async () => {
    for (const gateway of gateways) {
      // New clients go to the worker with the fewest of this gateway's clients: three of them reach at least two
      // workers, so at least one on another node. Each logs in alone, and the worker whose count moved answered it.
      const answeredFrom: string[] = [];
      for (let i = 0; i < workers.length; i++) {
        const before = await Promise.all(workers.map(workerHandled));
        const user = await chatLogin(gatewayUrl(gateway), `guest-${gateway.node}-${i}`);
        extra.push(user);
        // A worker counts an event once its handler has returned, just after the answer went out.
        let after: number[] = [];
        const answering = await waitFor(`a worker to count the login of a client on ${gateway.name}`, async () => {
          after = await Promise.all(workers.map(workerHandled));
          const moved = workers.filter((_, w) => after[w]! > before[w]!);
          return moved.length > 0 ? moved : undefined;
        }, 10_000, 100);
        assert.equal(answering.length, 1, `one worker handled the login of a client on ${gateway.name}: ${before.join(',')} -> ${after.join(',')}`);
        answeredFrom.push(answering[0]!.node);
      }
      assert.ok(answeredFrom.some((node) => node !== gateway.node), `a worker on another node than ${gateway.node} answered a client of ${gateway.name}: ${answeredFrom.join(', ')}`);
    }
  });
});
