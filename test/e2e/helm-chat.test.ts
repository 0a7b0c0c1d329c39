/**
 * The user's path, end to end on the test node (the real kubelet, containerd, CNI, kube-proxy and CoreDNS, running
 * the project's own image): helm install the chart (the operator runs as a pod with its ServiceAccount), kubectl
 * apply the chat example, chat across two gateways and through the client Service, scale workers, lose the Register,
 * scale gateways down, a handler from a ConfigMap, TLS from Secrets, kubectl logs and exec, uninstall.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';
import { freePort } from '../control-plane/net-helpers.js';
import { nodeDir } from '../control-plane/testcluster-state.js';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCa } from '../harness/test-certs.js';
import { chatter } from '../harness/chat-clients.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';
import { clusterNodes } from '../node/cluster-nodes.js';
import { containerdSocket } from '../node/containerd.js';
import { nodeOfPodIp } from '../node/node-layout.js';
import { run } from '../node/run-command.js';
import { OperatorFixture } from '../operator/operator-fixture.js';
import { packageChart } from '../chart/package-chart.js';

const ns = 'demo';
/** The operator watches its own namespace only (a Role; cluster-wide it only reads Nodes), so it leaves the clusters of the other node tests alone. */
const system = ns;

function metric(ip: string, port: number, name: string): Promise<number> {
  return scrapeMetric(`http://${ip}:${port}/metrics`, name);
}

/** Containers the nodes' containerd run for this test's namespace. */
function containersOfTheTest(): string[] {
  return clusterNodes(nodeDir).flatMap((node) => {
    const listing = run(ensureBinaries().crictl, ['--runtime-endpoint', `unix://${containerdSocket(node.dir)}`, 'ps', '-o', 'json']);
    const containers = (JSON.parse(listing) as { containers: Array<{ labels: Record<string, string> }> }).containers;
    return containers.map((c) => `${c.labels['io.kubernetes.pod.namespace']}/${c.labels['io.kubernetes.pod.name']}`).filter((name) => name.startsWith(`${ns}/`));
  });
}

describe('helm install, kubectl apply, scale, survive (on the test node)', () => {
  let fixture: OperatorFixture;
  const clients: WsTestClient[] = [];
  let ann: WsTestClient;
  let bob: WsTestClient;
  let certs: string;

  const ip = (pod: string) => fixture.podIp(ns, pod);
  const status = async () => (await fixture.getCluster(ns, 'chat')).status ?? {};
  /** Ann says `content` and Bob must hear it. */
  async function annToBob(content: string): Promise<void> {
    ann.send(JSON.stringify({ type: 'say', to: 'all', content }));
    await bob.next((m) => m.includes(`"content":"${content}"`), 10_000);
  }

  before(async () => {
    fixture = await OperatorFixture.onNode({ installCrd: false });
    await fixture.createNamespace(ns);
    certs = mkdtempSync(path.join(tmpdir(), 'gwc-e2e-certs-'));
  });

  after(async () => {
    for (const client of clients) client.close();
    await fixture?.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  it('helm install runs the operator as a pod with its ServiceAccount, with its CRD', async () => {
    // No --wait: Helm 4's status watcher never saw the Deployment become available here (it does, in seconds).
    // The packaged chart, as from a registry: its CRD comes out of the archive.
    const archive = packageChart();
    fixture.helm('install', 'gwc', archive, '-n', system, '--set', 'replicaCount=1', '--set', 'watch.allNamespaces=false', '--set', 'tests.gatewayCluster=chat');
    rmSync(path.dirname(archive), { recursive: true, force: true });
    await waitFor('the operator Deployment to be available', async () => {
      const deployment = await fixture.read(`/apis/apps/v1/namespaces/${system}/deployments/gwc-gateway-cluster`);
      return deployment?.status?.availableReplicas === 1;
    }, 120_000, 250);
    const pods = await fixture.core.listNamespacedPod({ namespace: system, labelSelector: 'app.kubernetes.io/name=gateway-cluster-operator' });
    assert.equal(pods.items.length, 1);
    const operator = pods.items[0]!;
    assert.ok(nodeOfPodIp(operator.status!.podIP!), `the operator has a pod IP on a node's pod bridge: ${operator.status!.podIP}`);
    assert.equal(operator.spec!.serviceAccountName, 'gwc-gateway-cluster');
    assert.match(fixture.kubectl('get', 'crd', 'gatewayclusters.gatewaycluster.dev', '-o', 'name'), /gatewayclusters/);
    await waitFor('the operator to lead', () => /"logEvent":"leader-elected"/.test(fixture.kubectl('-n', system, 'logs', operator.metadata!.name!)), 30_000, 500);
  });

  it('kubectl apply the chat example: every role runs on its own pod IP', async () => {
    fixture.kubectl('-n', ns, 'apply', '-f', path.join(repoRoot, 'examples/chat.yaml'));
    await fixture.waitForCondition(ns, 'chat', 'Ready', 'True', 180_000);
    const ips = await Promise.all(['chat-gateway-0', 'chat-gateway-1', 'chat-worker-0', 'chat-worker-1'].map(ip));
    assert.equal(new Set(ips).size, 4, `distinct pod IPs: ${ips.join(', ')}`);
    for (const address of ips) assert.ok(nodeOfPodIp(address), address);
  });

  it('clients on two gateways chat with each other, and one comes in through the client Service', async () => {
    ann = await chatter(`ws://${await ip('chat-gateway-0')}:7272/`, 'Ann');
    bob = await chatter(`ws://${await ip('chat-gateway-1')}:7272/`, 'Bob');
    clients.push(ann, bob);
    await annToBob('hello across gateways');
    const service = await fixture.read(`/api/v1/namespaces/${ns}/services/chat-gateway`);
    // Until kube-proxy has programmed the Service (just after Ready, at times), its ClusterIP refuses connections.
    const carol = await waitFor('kube-proxy to route the client Service', () => chatter(`ws://${service.spec.clusterIP}:${service.spec.ports[0].port}/`, 'Carol'), 30_000, 250);
    clients.push(carol);
    ann.send(JSON.stringify({ type: 'say', to: 'all', content: 'hello Carol' }));
    await carol.next((m) => m.includes('"content":"hello Carol"'), 10_000);
  });

  it('a backend pushes to a chat client with curl through the HTTP API Service, with the generated key', async () => {
    const secret = await fixture.core.readNamespacedSecret({ namespace: ns, name: 'chat-api-key' });
    const key = Buffer.from(secret.data!.keys!, 'base64').toString().trim();
    const service = await fixture.read(`/api/v1/namespaces/${ns}/services/chat-api`);
    const url = `http://${service.spec.clusterIP}:${service.spec.ports[0].port}/v1/sendToAll`;
    const push = JSON.stringify({ message: JSON.stringify({ type: 'notice', content: 'pushed by curl' }) });
    await waitFor('the API to answer', () => {
      const answer = spawnSync('curl', ['-sS', '--max-time', '5', '-H', `Authorization: Bearer ${key}`, '-d', push, url], { encoding: 'utf8' });
      return answer.stdout.includes('"result":null') ? answer.stdout : undefined;
    }, 60_000, 500);
    await ann.next((m) => m.includes('pushed by curl'), 10_000);
    const refused = run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-d', push, url]);
    assert.equal(refused, '401', 'no key, no push');
  });

  it('helm test connects a WebSocket client to the chat cluster\'s client Service, and leaves no pod behind', async () => {
    // The pod exits 0 only once its WebSocket to the client Service is open; a succeeded one is deleted.
    const out = fixture.helm('test', 'gwc', '-n', system, '--timeout', '120s');
    assert.match(out, /TEST SUITE:\s+gwc-gateway-cluster-test[\s\S]*Phase:\s+Succeeded/);
    await waitFor('the test pod to be deleted', async () => (await fixture.read(`/api/v1/namespaces/${system}/pods/gwc-gateway-cluster-test`)) === undefined, 30_000, 250);
  });

  it('kubectl port-forward to the client Service serves the chat page and its WebSocket, as the README says', async () => {
    const port = await freePort();
    const forward = spawn(ensureBinaries().kubectl, ['--kubeconfig', fixture.controlPlane.kubeconfigPath, '-n', ns, 'port-forward', 'svc/chat-gateway', `${port}:7272`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      forward.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      forward.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor('kubectl port-forward to listen', () => output.includes('Forwarding from 127.0.0.1'), 30_000, 100);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>/);
      const dave = await chatter(`ws://127.0.0.1:${port}/`, 'Dave');
      dave.close();
    } finally {
      forward.kill();
    }
  });

  it('kubectl logs and kubectl exec reach the pods', async () => {
    const logs = fixture.kubectl('-n', ns, 'logs', 'chat-worker-0');
    assert.match(logs, /"logEvent":"gateway-connected"/);
    const seen = fixture.kubectl('-n', ns, 'exec', 'chat-worker-0', '--', 'node', '-e', 'console.log(process.env.GWC_REGISTER_ADDRESS)').trim();
    assert.equal(seen, `chat-register.${ns}.svc:1236`);
  });

  it('kubectl scale: the new workers receive and handle messages', async () => {
    fixture.kubectl('-n', ns, 'scale', 'gwc/chat', '--replicas=4');
    await waitFor('4 ready workers in status', async () => (await status()).workersReady === '4/4', 180_000, 250);
    for (const gateway of ['chat-gateway-0', 'chat-gateway-1']) {
      const address = await ip(gateway);
      await waitFor(`${gateway} to route to 4 workers`, async () => (await metric(address, 9272, 'gwc_gateway_workers')) === 4, 30_000, 200);
    }
    const workerIps = await Promise.all([0, 1, 2, 3].map((n) => ip(`chat-worker-${n}`)));
    const before = await Promise.all([2, 3].map((n) => metric(workerIps[n]!, 9300, 'gwc_worker_events_handled_total')));
    // New clients are spread round-robin over the workers, on each gateway.
    const gatewayIps = await Promise.all([0, 1].map((n) => ip(`chat-gateway-${n}`)));
    for (let i = 0; i < 8; i++) clients.push(await chatter(`ws://${gatewayIps[i % 2]}:7272/`, `guest${i}`));
    await annToBob('after scaling');
    const handled = await Promise.all(workerIps.map((address) => metric(address, 9300, 'gwc_worker_events_handled_total')));
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
    }, 120_000, 250);
    for (let i = 20; i < 40; i++) ann.send(JSON.stringify({ type: 'say', to: 'all', content: `during-${i}` }));
    for (let i = 0; i < 40; i++) await bob.next((m) => m.includes(`"content":"during-${i}"`), 15_000);
    for (const gateway of ['chat-gateway-0', 'chat-gateway-1']) {
      const address = await ip(gateway);
      await waitFor(`${gateway} back with the new Register`, async () => (await metric(address, 9272, 'gwc_gateway_register_connected')) === 1, 30_000, 250);
    }
    await annToBob('after the register came back');
  });

  it('gateways scaled from 2 to 1: the removed one closes its clients with 1012 (its preStop hook ran first) and they reconnect', async () => {
    const survivor = await ip('chat-gateway-0');
    fixture.kubectl('-n', ns, 'patch', 'gwc', 'chat', '--type=merge', '-p', '{"spec":{"gateway":{"replicas":1}}}');
    const deleteAsked = Date.now();
    await bob.waitClosed(120_000);
    assert.equal(bob.closeCode, 1012, 'service restart');
    assert.ok(Date.now() - deleteAsked >= 3000, 'the 3 s preStop sleep ran in the container before SIGTERM');
    bob = await chatter(`ws://${survivor}:7272/`, 'Bob');
    clients.push(bob);
    await annToBob('after the gateway left');
    await waitFor('status to show one gateway', async () => (await status()).gatewaysReady === '1/1', 90_000, 250);
  });

  it('the ConfigMap handler example runs its handler from the ConfigMap', async () => {
    fixture.kubectl('-n', ns, 'apply', '-f', path.join(repoRoot, 'examples/configmap-handler.yaml'));
    await fixture.waitForCondition(ns, 'shout', 'Ready', 'True', 180_000);
    const gateway = await fixture.podIp(ns, 'shout-gateway-0');
    const listener = await WsTestClient.open(`ws://${gateway}:7272/`);
    const speaker = await WsTestClient.open(`ws://${gateway}:7272/`);
    clients.push(listener, speaker);
    await speaker.nextJson('welcome', 10_000);
    speaker.send('hello from a configmap');
    const shout = await listener.nextJson<{ text: string }>('shout', 10_000);
    assert.equal(shout.text, 'HELLO FROM A CONFIGMAP');
    fixture.kubectl('-n', ns, 'delete', '-f', path.join(repoRoot, 'examples/configmap-handler.yaml'), '--wait=true', '--timeout=120s');
  });

  it('TLS from Secrets: wss:// for clients, mutual TLS inside the cluster', async () => {
    const ca = new TestCa(certs, 'e2e-ca');
    const client = ca.issue('client', 'secure-gateway', [], [`secure-gateway.${ns}.svc`]);
    const internal = ca.issue('internal', 'secure-internal', [], ['internal']);
    fixture.kubectl('-n', ns, 'create', 'secret', 'tls', 'secure-client-tls', `--cert=${client.cert}`, `--key=${client.key}`);
    fixture.kubectl('-n', ns, 'create', 'secret', 'generic', 'secure-internal-tls', `--from-file=tls.crt=${internal.cert}`,
      `--from-file=tls.key=${internal.key}`, `--from-file=ca.crt=${internal.ca}`);
    await fixture.createCluster(ns, 'secure', {
      gateway: { replicas: 1, tlsSecretName: 'secure-client-tls' },
      worker: { replicas: 1, handler: { module: 'echo' } },
      internalTls: { secretName: 'secure-internal-tls' },
    });
    await fixture.waitForCondition(ns, 'secure', 'Ready', 'True', 180_000);
    const gateway = await fixture.podIp(ns, 'secure-gateway-0');
    const secure = await WsTestClient.open(`wss://${gateway}:7272/`, {
      ca: readFileSync(client.ca),
      // The pod is dialled by IP; its certificate names the Service, as a client of the Service would check it.
      checkServerIdentity: ((_host: string, cert: PeerCertificate) => checkServerIdentity(`secure-gateway.${ns}.svc`, cert)) as never,
    });
    clients.push(secure);
    secure.send('over wss, through mutual TLS');
    assert.equal(await secure.next(() => true, 10_000), 'over wss, through mutual TLS');
    const workerLogs = fixture.kubectl('-n', ns, 'logs', 'secure-worker-0');
    assert.match(workerLogs, /"logEvent":"tls-loaded"/);
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'secure', '--wait=true', '--timeout=120s');
  });

  it('deleting the GatewayCluster and helm uninstall leave nothing behind', async () => {
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'chat', '--wait=true', '--timeout=120s');
    fixture.helm('uninstall', 'gwc', '-n', system);
    await waitFor('every pod gone and every container stopped', async () => {
      const pods = await fixture.core.listNamespacedPod({ namespace: ns });
      return pods.items.length === 0 && containersOfTheTest().length === 0;
    }, 180_000, 500);
    const leftovers = fixture.kubectl('get', 'deployments,statefulsets,services,secrets,poddisruptionbudgets,networkpolicies,serviceaccounts,roles,rolebindings',
      '-n', ns, '-l', 'app.kubernetes.io/managed-by=gateway-cluster-operator', '-o', 'name').trim();
    assert.equal(leftovers, '');
    const operatorLeftovers = fixture.kubectl('get', 'deployments,services,serviceaccounts,roles,rolebindings', '-n', system, '-l', 'app.kubernetes.io/instance=gwc', '-o', 'name').trim();
    assert.equal(operatorLeftovers, '');
    assert.equal(fixture.kubectl('get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=gwc', '-o', 'name').trim(), '');
  });
});
