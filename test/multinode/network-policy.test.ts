/**
 * The NetworkPolicy the operator makes, enforced by a real engine (kube-router on every node of the three-node test
 * cluster): who may open a TCP connection to which port of a GatewayCluster's pods (the GatewayWorker compat port
 * among the internal ones), from pods on the same node and on others. Refusals are asserted only once the policy is
 * known to be in force for the same targets (a pod it lets in got in first), since kube-router takes a few seconds to
 * know a new pod; a last test removes the policy and sees the refused pod get in, so the refusals were the policy's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { METRICS_PORTS } from '../../operator/builders/addresses.js';
import { childNames } from '../../operator/builders/names.js';
import { API_CLIENT_LABEL } from '../../operator/builders/network-policy.js';
import { GENERATED_SECRET_KEY } from '../../operator/builders/secret.js';
import type { Controller } from '../../operator/controller/controller.js';
import { gatewayClusterSpec } from '../../operator/spec/gateway-cluster-spec.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from '../operator/operator-fixture.js';
import { connectFrom, IMAGE_ON_THE_NODES, nodeOf, requireNodes, startProbePod, waitUntilOpen, type Target } from './probe-pods.js';

const ns = 'netpol';
const name = 'np';
const specInput = {
  ...IMAGE_ON_THE_NODES,
  gateway: { replicas: 3 },
  worker: { replicas: 1, handler: { module: 'echo' } },
  api: { enabled: false },
  // GatewayWorker's compat port on the Register falls under the policy like the internal ports.
  gatewayWorkerCompat: { enabled: true },
};
const spec = gatewayClusterSpec.parse(specInput);
const children = childNames(name);
const SCRAPER_LABEL = 'gwc-test/scraper';

/** Runs a GatewayClient inside a pod: it counts the cluster's clients and sends `message` to all of them. */
const GATEWAY_CLIENT_SCRIPT = `
setTimeout(() => { console.log(JSON.stringify({ error: 'no answer in 20 s' })); process.exit(3); }, 20000).unref();
const { GatewayClient } = await import('/app/dist/runtime/index.js');
const client = await GatewayClient.connect({ registerAddress: process.argv[1], secret: process.env.GWC_SECRET, requestTimeoutMs: 3000 });
try {
  const count = await client.getAllClientCount();
  await client.sendToAll(process.argv[2]);
  console.log(JSON.stringify({ count }));
} finally {
  client.close();
}
`;

describe('NetworkPolicy enforced by kube-router across three nodes', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  const clients: WsTestClient[] = [];
  /** Pod name -> its node and IP. */
  const where = new Map<string, { node: string; ip: string }>();
  let gateways: string[];
  let register: string;
  let worker: string;
  let registerService: string;
  let clientService: { ip: string; port: number };
  /** Probe pods: two without labels (on the Register's node, and on another), an API client, a metrics scraper. */
  const plainHere = 'plain-here';
  const plainThere = 'plain-there';
  const apiClient = 'api-client';
  const scraper = 'scraper';

  const internalTargets = (): Target[] => [
    [where.get(register)!.ip, spec.register.port],
    [registerService, spec.register.port],
    [where.get(register)!.ip, spec.gatewayWorkerCompat.port],
    [registerService, spec.gatewayWorkerCompat.port],
    ...gateways.map((gateway): Target => [where.get(gateway)!.ip, spec.gateway.internalPort]),
  ];
  const clientTargets = (): Target[] => [...gateways.map((gateway): Target => [where.get(gateway)!.ip, spec.gateway.clientPort]), [clientService.ip, clientService.port]];
  const metricsTargets = (): Target[] => [
    [where.get(register)!.ip, METRICS_PORTS.register],
    ...gateways.map((gateway): Target => [where.get(gateway)!.ip, METRICS_PORTS.gateway]),
    [where.get(worker)!.ip, METRICS_PORTS.worker],
  ];
  /** The labelled pod got in: the policy is in force for these targets, and they listen. */
  let policyInForce: Promise<void> | undefined;
  const policyKnownInForce = () => (policyInForce ??= waitUntilOpen(fixture, ns, apiClient, internalTargets(), 90_000));

  before(async () => {
    const nodes = requireNodes(3);
    fixture = await OperatorFixture.onNode();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController({ namespace: ns }));
    await fixture.createCluster(ns, name, specInput);
    await fixture.waitForCondition(ns, name, 'Ready', 'True', 240_000);
    const pods = (await fixture.core.listNamespacedPod({ namespace: ns })).items;
    for (const pod of pods) where.set(pod.metadata!.name!, { node: pod.spec!.nodeName!, ip: pod.status!.podIP! });
    gateways = [0, 1, 2].map((i) => `${children.gateway}-${i}`);
    worker = `${children.worker}-0`;
    register = pods.find((pod) => pod.metadata!.labels!['app.kubernetes.io/component'] === 'register')!.metadata!.name!;
    registerService = (await fixture.read(`/api/v1/namespaces/${ns}/services/${children.registerService}`)).spec.clusterIP;
    const service = (await fixture.read(`/api/v1/namespaces/${ns}/services/${children.gatewayClient}`)).spec;
    clientService = { ip: service.clusterIP, port: service.ports[0].port };

    const registerNode = where.get(register)!.node;
    const others = nodes.filter((node) => node !== registerNode);
    await Promise.all([
      startProbePod(fixture, ns, plainHere, { node: registerNode }),
      startProbePod(fixture, ns, plainThere, { node: others[0]! }),
      startProbePod(fixture, ns, apiClient, {
        node: others[1]!,
        labels: { [API_CLIENT_LABEL]: name },
        env: [{ name: 'GWC_SECRET', valueFrom: { secretKeyRef: { name: children.secret, key: GENERATED_SECRET_KEY } } }],
      }),
      startProbePod(fixture, ns, scraper, { node: others[0]!, labels: { [SCRAPER_LABEL]: 'yes' } }),
    ]);
    for (const probe of [plainHere, plainThere, apiClient, scraper]) where.set(probe, { node: await nodeOf(fixture, ns, probe), ip: '' });
  });

  after(async () => {
    for (const client of clients) client.close();
    controller?.stop();
    await fixture?.stop();
  });

  it('the gateways are spread over the three nodes, and a policy selects the cluster\'s pods', async () => {
    assert.equal(new Set(gateways.map((gateway) => where.get(gateway)!.node)).size, 3, `gateways on ${gateways.map((g) => where.get(g)!.node).join(', ')}`);
    const policy = await fixture.read(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${children.networkPolicy}`);
    assert.ok(policy, 'the operator made its NetworkPolicy');
  });

  it('a pod labelled as an API client of the cluster reaches the Register and every gateway\'s internal port, and a GatewayClient in it works', async () => {
    await policyKnownInForce();
    const listener = await WsTestClient.open(`ws://${where.get(gateways[1]!)!.ip}:${spec.gateway.clientPort}/`);
    clients.push(listener);
    const registerAddress = `${children.registerService}.${ns}.svc:${spec.register.port}`;
    const answer = await waitFor('the GatewayClient in the pod to answer', () => {
      const out = fixture.kubectl('-n', ns, 'exec', apiClient, '--', 'node', '--input-type=module', '-e', GATEWAY_CLIENT_SCRIPT, registerAddress, 'hello from a pod');
      const parsed = JSON.parse(out.trim().split('\n').pop()!) as { count?: number; error?: string };
      return parsed.count !== undefined ? parsed : undefined;
    }, 60_000, 1000);
    assert.ok(answer.count! >= 1, `it counts the listener among the clients: ${answer.count}`);
    assert.equal(await listener.next(() => true, 10_000), 'hello from a pod');
  });

  it('a pod without the label reaches the client port, but not the Register port nor a gateway\'s internal port, on its own node or another', async () => {
    await policyKnownInForce();
    const hereNode = where.get(plainHere)!.node;
    // What the targets cover: the Register on the probe's own node; gateways on its node and on the two others.
    assert.equal(where.get(register)!.node, hereNode);
    assert.ok(gateways.some((gateway) => where.get(gateway)!.node === hereNode));
    assert.ok(gateways.some((gateway) => where.get(gateway)!.node !== hereNode));
    assert.notEqual(where.get(plainThere)!.node, where.get(register)!.node);
    for (const probe of [plainHere, plainThere]) {
      await waitUntilOpen(fixture, ns, probe, clientTargets());
      const internal = internalTargets();
      const outcomes = connectFrom(fixture, ns, probe, internal);
      internal.forEach(([host, port], i) => assert.notEqual(outcomes[i], 'open', `${probe} (on ${where.get(probe)!.node}) must not reach ${host}:${port}`));
    }
  });

  it('the cluster\'s own gateways, worker and Register work across the nodes with the policy in force', async () => {
    await policyKnownInForce();
    for (const gateway of gateways) {
      const client = await WsTestClient.open(`ws://${where.get(gateway)!.ip}:${spec.gateway.clientPort}/`);
      clients.push(client);
      const text = `echo through ${gateway} on ${where.get(gateway)!.node}, worker on ${where.get(worker)!.node}`;
      client.send(text);
      assert.equal(await client.next(() => true, 15_000), text);
    }
  });

  it('spec.networkPolicy.metricsFrom keeps an unlisted pod off the metrics ports and lets a listed one in', async () => {
    // Unset, the metrics ports are open to anyone.
    await waitUntilOpen(fixture, ns, plainThere, metricsTargets());
    await fixture.patchCluster(ns, name, { spec: { networkPolicy: { metricsFrom: [{ podSelector: { matchLabels: { [SCRAPER_LABEL]: 'yes' } } }] } } });
    await waitFor('the NetworkPolicy to list who may scrape', async () => {
      const policy = await fixture.read(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${children.networkPolicy}`);
      return policy?.spec.ingress.some((rule: { from?: unknown[] }) => JSON.stringify(rule.from ?? []).includes(SCRAPER_LABEL));
    }, 30_000, 200);
    // The changed policy is in force once the unlisted pod is refused everywhere; then the listed one must be let in.
    const targets = metricsTargets();
    await waitFor('kube-router to refuse the unlisted pod on every metrics port', () => connectFrom(fixture, ns, plainThere, targets).every((outcome) => outcome !== 'open'), 60_000, 500);
    await waitUntilOpen(fixture, ns, scraper, targets);
    const outcomes = connectFrom(fixture, ns, plainThere, targets);
    targets.forEach(([host, port], i) => assert.notEqual(outcomes[i], 'open', `the unlisted pod must not reach ${host}:${port}`));
  });

  it('with the policy removed (networkPolicy.enabled=false), the same unlabelled pod gets into every port: the refusals were the policy\'s', async () => {
    await fixture.patchCluster(ns, name, { spec: { networkPolicy: { enabled: false } } });
    await waitFor('the NetworkPolicy to be deleted', async () => (await fixture.read(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${children.networkPolicy}`)) === undefined, 30_000, 200);
    await waitUntilOpen(fixture, ns, plainHere, [...internalTargets(), ...metricsTargets()]);
    await waitUntilOpen(fixture, ns, plainThere, [...internalTargets(), ...metricsTargets()]);
  });
});
