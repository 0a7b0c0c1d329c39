/**
 * A GatewayCluster whose pods really run: the operator in this process, the pods on the test node (the real kubelet,
 * containerd, CNI, kube-proxy and CoreDNS) from the project's own image. Also: a message whose handler exits its
 * worker costs a few pod restarts (the kubelet's), not a crash loop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Controller } from '../../operator/controller/controller.js';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from '../operator/operator-fixture.js';
import { KubeClient } from '../../operator/kube/kube-client.js';
import { watchContainerTerminations } from './container-terminations.js';
import { nodeOfPodIp } from './node-layout.js';

const ns = 'pods-test';

/** Sends `text` over a fresh WebSocket to `url` and resolves with the first reply. */
function echoOnce(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`no reply from ${url}`)), 10_000);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(data.toString());
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A handler (from a ConfigMap) that answers a JSON message {n} with {n, redelivery}, and exits its process on "exit". */
const POISON_HANDLER = `
export default {
  async onMessage(clientId, message, ctx) {
    if (message === 'exit') process.exit(3);
    const { n } = JSON.parse(message);
    await ctx.sendToCurrentClient(JSON.stringify({ n, redelivery: ctx.redelivery }));
  },
};
`;
/** The default of --max-event-deaths. */
const MAX_EVENT_DEATHS = 3;

describe('a GatewayCluster whose pods really run (the test node)', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  const exec = (pod: string, script: string) => fixture.kubectl('-n', ns, 'exec', pod, '-c', 'gwc', '--', 'node', '-e', script).trim();

  before(async () => {
    fixture = await OperatorFixture.onNode();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController({ namespace: ns }));
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('becomes Ready with every pod ready, and echoes through the gateway pod and its Service', async () => {
    await fixture.createCluster(ns, 'echo', {
      image: DEFAULT_OPERAND_IMAGE,
      imagePullPolicy: 'Never',
      gateway: { replicas: 1, service: { port: 80 } },
      worker: { replicas: 2, handler: { module: 'echo' } },
    });
    const { cluster } = await fixture.waitForCondition(ns, 'echo', 'Ready', 'True', 120_000);
    assert.equal(cluster.status!.gatewaysReady, '1/1');
    assert.equal(cluster.status!.workersReady, '2/2');
    assert.deepEqual(cluster.status!.register, { replicas: 1, ready: 1 });
    await waitFor('Progressing to settle', async () => {
      const now = await fixture.getCluster(ns, 'echo');
      return now.status!.conditions.find((c: { type: string }) => c.type === 'Progressing').status === 'False';
    }, 30_000, 200);

    const table = fixture.kubectl('-n', ns, 'get', 'gwc', 'echo').trim().split('\n');
    assert.match(table[0]!, /^NAME\s+READY\s+GATEWAYS\s+WORKERS\s+ADDRESS\s+AGE$/);
    assert.match(table[1]!, new RegExp(`^echo\\s+True\\s+1/1\\s+2/2\\s+echo-gateway\\.${ns}\\.svc:80\\s+\\S+$`));

    const gatewayIp = await fixture.podIp(ns, 'echo-gateway-0');
    assert.ok(nodeOfPodIp(gatewayIp), `the gateway has a pod IP on a node's pod bridge: ${gatewayIp}`);
    assert.equal(await echoOnce(`ws://${gatewayIp}:7272/`, 'hello through the pod IP'), 'hello through the pod IP');
    // The client Service listens on 80 and sends to the pods' port named client (7272): kube-proxy translates.
    const service = await fixture.read(`/api/v1/namespaces/${ns}/services/echo-gateway`);
    assert.equal(service.spec.ports[0].port, 80);
    // kube-proxy programs the Service once it sees the ready endpoint, which may be just after Ready: until then the
    // ClusterIP refuses connections.
    const echoed = await waitFor('kube-proxy to route the Service to the gateway pod', () => echoOnce(`ws://${service.spec.clusterIP}:80/`, 'hello through the Service'), 30_000, 250);
    assert.equal(echoed, 'hello through the Service');
    const slices = await fixture.read(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io/service-name=echo-gateway`);
    assert.deepEqual(slices.items.flatMap((slice: any) => slice.endpoints.flatMap((e: any) => e.addresses)), [gatewayIp], 'EndpointSlices list the gateway pod');
  });

  it('runs the image as its non-root user, with a read-only view of the mounted Secret', () => {
    const report = JSON.parse(exec('echo-gateway-0', `
      const fs = require('fs');
      const file = '/etc/gwc/secret/secret';
      let write = 'allowed';
      try { fs.writeFileSync(file, 'x'); } catch (e) { write = e.code; }
      let create = 'allowed';
      try { fs.writeFileSync('/etc/gwc/secret/new', 'x'); } catch (e) { create = e.code; }
      const stat = fs.statSync(file);
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), readable: fs.readFileSync(file, 'utf8').length,
        mode: (stat.mode & 0o777).toString(8), fileGid: stat.gid, write, create, pid1: fs.readFileSync('/proc/1/cmdline', 'utf8').split('\\0')[0] }));
    `)) as Record<string, unknown>;
    assert.equal(report.uid, 65532, 'the image\'s user');
    assert.equal(report.gid, 65532);
    assert.ok((report.readable as number) >= 16, 'the shared secret can be read');
    assert.equal(report.mode, '440', 'defaultMode 0400, plus group read for the fsGroup');
    assert.ok((report.groups as number[]).includes(report.fileGid as number), 'readable through the fsGroup');
    assert.equal(report.write, 'EROFS');
    assert.equal(report.create, 'EROFS');
    assert.equal(report.pid1, 'node', 'node is PID 1 of the container: signals reach it directly');
  });

  it('a gateway reaches the Register by its DNS name, which CoreDNS resolves to the Register Service', async () => {
    const register = await fixture.read(`/api/v1/namespaces/${ns}/services/echo-register`);
    const resolved = exec('echo-gateway-0', `require('dns').lookup('echo-register.${ns}.svc', (e, a) => console.log(e ? e.code : a))`);
    assert.equal(resolved, register.spec.clusterIP);
    const logs = fixture.kubectl('-n', ns, 'logs', 'echo-gateway-0', '-c', 'gwc');
    assert.match(logs, new RegExp(`"msg":"announced to register","register":"echo-register\\.${ns}\\.svc:1236"`));
    const outside = exec('echo-gateway-0', `require('dns').lookup('example.com', (e, a) => console.log(e ? e.code : a))`);
    assert.match(outside, /^(ENOTFOUND|EAI_AGAIN|ESERVFAIL)$/, 'names outside the cluster are not resolved: no query leaves the node');
  });

  it('reports a cluster whose image never starts as Degraded with a Warning event', async () => {
    await fixture.createCluster(ns, 'broken', { image: 'registry.example/nope:1' });
    const { condition } = await fixture.waitForCondition(ns, 'broken', 'Degraded', 'True', 120_000);
    assert.match(condition.message, /ErrImagePull|ImagePullBackOff/);
    const events = await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=broken' });
    assert.ok(events.items.some((e) => e.type === 'Warning' && /ErrImagePull|ImagePullBackOff/.test(e.message ?? '')));
    const ready = (await fixture.getCluster(ns, 'broken')).status!.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready.status, 'False');
  });

  it(`quarantines a poison message: the worker pods restart at most ${MAX_EVENT_DEATHS} times, the others' messages are handled, and the cluster is Ready again`, async (t) => {
    // Three worker pods; ten clients send a message every 50 ms while another sends one that exits the worker running it.
    const [WORKERS, CLIENTS, MESSAGES_EACH, POISON_AT] = [3, 10, 40, 10];
    await fixture.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'poison-handler' }, data: { 'handler.mjs': POISON_HANDLER } } });
    await fixture.createCluster(ns, 'poison', {
      image: DEFAULT_OPERAND_IMAGE,
      imagePullPolicy: 'Never',
      gateway: { replicas: 1 },
      worker: { replicas: WORKERS, handler: { configMap: { name: 'poison-handler' } } },
    });
    await fixture.waitForCondition(ns, 'poison', 'Ready', 'True', 180_000);
    const terminations = watchContainerTerminations(new KubeClient(fixture.kc), ns, 'app.kubernetes.io/instance=poison,app.kubernetes.io/component=worker', 'gwc');
    t.after(() => terminations.stop());
    const url = `ws://${await fixture.podIp(ns, 'poison-gateway-0')}:7272/`;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => WsTestClient.open(url)));
    const poisonClient = await WsTestClient.open(url);

    for (let n = 1; n <= MESSAGES_EACH; n++) {
      for (const client of clients) client.send(JSON.stringify({ n }));
      if (n === POISON_AT) poisonClient.send('exit');
      else if (!poisonClient.closed) poisonClient.send(JSON.stringify({ n }));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    await poisonClient.waitClosed(180_000);
    assert.equal(poisonClient.closeCode, 1011);
    const handled = (client: WsTestClient) => new Set(client.inbox.map((m) => (JSON.parse(m) as { n: number }).n));
    await waitFor('every other client\'s messages handled', () => clients.every((c) => handled(c).size === MESSAGES_EACH), 180_000, 500);
    const duplicated = clients.reduce((sum, c) => sum + c.inbox.length - MESSAGES_EACH, 0);
    for (const client of clients) {
      const firstRuns = client.inbox.map((m) => JSON.parse(m) as { n: number; redelivery: boolean }).filter((r) => !r.redelivery);
      assert.equal(new Set(firstRuns.map((r) => r.n)).size, firstRuns.length, 'a message handled twice is flagged as a redelivery');
    }

    const { cluster } = await fixture.waitForCondition(ns, 'poison', 'Ready', 'True', 180_000);
    await waitFor('every worker ready', async () => (await fixture.getCluster(ns, 'poison')).status?.workersReady === `${WORKERS}/${WORKERS}`, 180_000, 500);
    const restartCount = () => [...terminations.restarts.values()].reduce((sum, n) => sum + n, 0);
    try {
      await waitFor('an exit code for every worker restart', () => restartCount() > 0 && terminations.exitCodes.size >= restartCount(), 60_000, 250);
    } catch { /* best effort on the kubelet's side (see container-terminations.ts); the assertions below say what was published */ }
    const restarts = restartCount();
    const exitCodes = [...terminations.exitCodes.values()];
    console.log(`poison on the test node: ${restarts} worker pod restarts (--max-event-deaths ${MAX_EVENT_DEATHS}), exit codes published for ${exitCodes.length}: ` +
      `[${exitCodes.join(', ')}]; ${CLIENTS} other clients, ${CLIENTS * MESSAGES_EACH} messages, none lost, ${duplicated} handled twice (flagged); ` +
      `cluster Ready: ${cluster.status!.workersReady} workers`);
    assert.ok(restarts >= 1 && restarts <= MAX_EVENT_DEATHS, `${restarts} restarts`);
    assert.ok(exitCodes.length >= 1, 'the kubelet published no exit code for any restarted worker');
    assert.deepEqual(exitCodes.filter((code) => code !== 3), [], 'it was the poison (exit code 3) that ended every worker whose exit the kubelet published');
    const logs = fixture.kubectl('-n', ns, 'logs', 'poison-gateway-0', '-c', 'gwc');
    assert.match(logs, /"msg":"event quarantined: the workers it was delivered to died"/);

    // Serving again: a new client's message is handled.
    const fresh = await WsTestClient.open(url);
    fresh.send(JSON.stringify({ n: 1 }));
    assert.equal((JSON.parse(await fresh.next(() => true, 10_000)) as { n: number }).n, 1);
    for (const client of [...clients, poisonClient, fresh]) client.close();
  });
});
