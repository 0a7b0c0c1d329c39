/**
 * Nodes that fail and drain, on the three-node test cluster, one after another on one GatewayCluster: a node drained,
 * a node that dies (a power cut) under load, and the Register's node dying. The power cuts are for good, so the file
 * runs alone (run-tests runs test/node-failure/ after everything else) and its scenarios in this order. Each prints
 * its figures; the assertions are generous bounds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { gatewayAddressOf } from '../../runtime/wire/client-id.js';
import { ensureBinaries } from '../control-plane/binaries.js';
import { nodeDir } from '../control-plane/testcluster-state.js';
import { scrapeMetric } from '../harness/metrics.js';
import { waitFor } from '../harness/wait.js';
import { nodeLayout, nodeOfPodIp, type NodeLayout } from '../node/node-layout.js';
import { clusterNodes, isPoweredOff } from '../node/cluster-nodes.js';
import { routeServicesThrough, serviceGateway } from '../node/host-network.js';
import { powerCut } from '../node/node-power.js';
import { readLedger } from '../soak/ledger.js';
import { LoadPool, type Connection, type GatewayFault, type LoadClient } from '../soak/load-clients.js';
import { Prng } from '../soak/prng.js';
import { settle } from '../soak/soak.js';
import { percentiles, tallyMessages, type MessageTally } from '../soak/tally.js';
import { ApiProber, type Probe } from './api-prober.js';
import { API_REQUEST_TIMEOUT_MS, FailureFixture, HEARTBEAT_SECONDS, PING_SECONDS, type Pod } from './failure-fixture.js';

const ns = 'node-failure';
const CLUSTER = 'fail';
/** Messages per second per client. */
const RATE = 1;
const SEED = 20_261_207;
/** A peer silent this long is gone: three internal heartbeats. */
const DETECTION_MS = 3 * HEARTBEAT_SECONDS * 1000;

const byComponent = (pods: Pod[], component: string) => pods.filter((pod) => pod.component === component);
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** The IP of the gateway a connection is on: from its client id once known, else from the pod URL it dialled. */
function gatewayIpOf(connection: Connection, gateways: Pod[]): string | undefined {
  const address = connection.clientId ? gatewayAddressOf(connection.clientId) : undefined;
  if (address) return address.slice(0, address.lastIndexOf(':'));
  return gateways[connection.gateway]?.ip;
}

function report(title: string, figures: Record<string, unknown>): void {
  console.log(`\n${title}\n${Object.entries(figures).map(([name, value]) => `  ${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`).join('\n')}`);
}

describe('nodes that fail and drain, on the three-node test cluster', () => {
  let f: FailureFixture;
  const pools: LoadPool[] = [];
  const probers: ApiProber[] = [];
  const kubectl = (...args: string[]) => f.operator.kubectl(...args);

  /** `clients` load clients spread over `gateways` by pod IP, reconnecting through the client Service; `faults` says what is being done to which gateway IP. */
  async function startLoad(name: string, clients: number, gateways: Pod[], faults: Map<string, GatewayFault>): Promise<LoadPool> {
    const pool = new LoadPool({
      urls: f.gatewayUrls(gateways),
      clients,
      rate: RATE,
      rng: new Prng(SEED + pools.length),
      keyPrefix: `${name}-`,
      reconnectUrl: await f.serviceUrl(CLUSTER),
      silenceLimitMs: 3 * PING_SECONDS * 1000 + 1000,
      learnClientIds: true,
      gatewayFault: (connection) => faults.get(gatewayIpOf(connection, gateways) ?? ''),
    });
    pools.push(pool);
    await pool.connectAll();
    await waitFor('every client to know its client id', () => pool.clients.every((client) => client.current?.clientId), 30_000, 100);
    pool.startSending();
    await waitFor('every client to have its first echoes', () => pool.clients.every((client) => client.highestEcho >= 2), 30_000, 100);
    return pool;
  }

  /** Stops sending, waits for what is in flight, and counts as the soak does. */
  async function finishLoad(pool: LoadPool): Promise<MessageTally & { settled: boolean; duplicates: number; unflagged: number; lostSentAt: number[] }> {
    pool.stopSending();
    const settled = await settle(pool, f.collector.dir);
    pool.close();
    const ledger = readLedger(f.collector.dir);
    const lostSentAt: number[] = [];
    const tally = tallyMessages(pool, ledger, ({ sentAt }) => lostSentAt.push(sentAt));
    const prefix = pool.clients[0]!.key.replace(/\d+$/, '');
    let duplicates = 0;
    let unflagged = 0;
    for (const [key, handled] of ledger.handled) {
      if (!key.startsWith(prefix) || handled.count < 2) continue;
      duplicates++;
      if (handled.redeliveries < handled.count - 1) unflagged++;
    }
    return { ...tally, settled, duplicates, unflagged, lostSentAt };
  }

  /** Clients whose current connection is on one of `ips`. */
  const clientsOn = (pool: LoadPool, gateways: Pod[], ips: Set<string>) =>
    pool.clients.filter((client) => client.current && ips.has(gatewayIpOf(client.current, gateways) ?? ''));

  /**
   * The host reaches Services through one node's kube-proxy, as a load balancer would. Connections through a node
   * that dies break with it, which is the load balancer's failure, not the cluster's: the host's way in goes through
   * a node that stays, before any connection is made.
   */
  function enterServicesAvoiding(victim: NodeLayout): void {
    if (serviceGateway() !== victim.ip) return;
    routeServicesThrough(clusterNodes(nodeDir).find((node) => node.name !== victim.name && !isPoweredOff(node))!);
  }

  /** Per client, the time from `since` to the first connection it opened after it. */
  function backAfter(clients: LoadClient[], pool: LoadPool, since: number): number[] {
    return clients.map((client) => pool.connections.find((connection) => connection.client === client.key && connection.openedAt > since)!.openedAt - since);
  }

  before(async () => {
    f = await FailureFixture.start(ns);
    await f.createCluster(CLUSTER, f.spec(4, 3));
  });

  after(async () => {
    for (const prober of probers) await prober.stop();
    for (const pool of pools) pool.close();
    await f?.stop();
  });

  it('a node drained: the PDB holds the second gateway until the first is back, clients move with 1012, nothing is lost; uncordon lets pods back', async () => {
    const pods = await f.pods(CLUSTER);
    const gateways = byComponent(pods, 'gateway');
    const nodes = [...new Set(gateways.map((pod) => pod.node))];
    const drained = nodes.sort((a, b) => gateways.filter((p) => p.node === b).length - gateways.filter((p) => p.node === a).length)[0]!;
    const leaving = gateways.filter((pod) => pod.node === drained);
    assert.ok(leaving.length >= 2, `two of the four gateways on one of three nodes: ${gateways.map((p) => `${p.name}@${p.node}`).join(', ')}`);
    const faults = new Map<string, GatewayFault>();
    const pool = await startLoad('drain', 120, gateways, faults);
    const onDrained = clientsOn(pool, gateways, new Set(leaving.map((pod) => pod.ip)));

    const redeliveredBefore = await redelivered(gateways.filter((pod) => pod.node !== drained));
    for (const pod of leaving) faults.set(pod.ip, 'sigterm');
    const drainStarted = Date.now();
    let output = '';
    const drain = spawn(ensureBinaries().kubectl, ['--kubeconfig', f.operator.controlPlane.kubeconfigPath, 'drain', drained, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=240s']);
    drain.stdout.on('data', (chunk: Buffer) => (output += chunk));
    drain.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const drained$ = new Promise<number>((resolve) => drain.on('exit', (code) => resolve(code ?? 1)));
    let fewestReady = Infinity;
    let draining = true;
    const watch = (async () => {
      while (draining) {
        const ready = byComponent(await f.pods(CLUSTER), 'gateway').filter((pod) => pod.ready).length;
        fewestReady = Math.min(fewestReady, ready);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const code = await drained$;
    const drainMs = Date.now() - drainStarted;
    draining = false;
    await watch;
    assert.equal(code, 0, `kubectl drain: ${output}`);
    assert.match(output, /disruption budget/, 'the drain waited on a PodDisruptionBudget rather than take two gateways at once');
    assert.equal(fewestReady, gateways.length - 1, 'never more than one gateway down');
    await f.waitForFullCount(CLUSTER, 120_000, nodeLayoutNamed(drained));

    await waitFor('the drained gateways\' clients to be back on other nodes', () =>
      onDrained.every((client) => client.current?.clientId && nodeOfPodIp(gatewayIpOf(client.current, gateways)!)?.name !== drained), 60_000, 100);
    const ends = pool.connections.filter((connection) => leaving.some((pod) => pod.ip === gatewayIpOf(connection, gateways)) && connection.end !== 'open');
    const tally = await finishLoad(pool);
    const redeliveredDuring = (await redelivered(gateways.filter((pod) => pod.node !== drained))) - redeliveredBefore;
    report('a node drained', {
      node: drained,
      'gateways on it': leaving.map((pod) => pod.name).join(', '),
      'drain took': `${seconds(drainMs)} s`,
      'fewest gateways ready': `${fewestReady} of ${gateways.length}`,
      'close codes of the drained gateways\' clients': countBy(ends.map((connection) => String(connection.closeCode))),
      messages: { sent: tally.sent, handled: tally.handled, lost: tally.lost, lostByEnd: tally.lostByEnd, duplicates: tally.duplicates, unflagged: tally.unflagged },
      'events redelivered by the gateways on other nodes': redeliveredDuring,
      reconnects: percentiles(pool.reconnectMs),
    });
    assert.ok(ends.length >= onDrained.length && ends.every((connection) => connection.closeCode === 1012), 'every client of a drained gateway was closed with 1012');
    assert.equal(tally.lost, 0, `nothing lost: ${JSON.stringify(tally.lostByEnd)}`);
    assert.equal(tally.unflagged, 0, 'every repeat flagged ctx.redelivery');
    assert.ok(tally.settled, 'every message echoed');

    kubectl('uncordon', drained);
    await f.operator.patchCluster(ns, CLUSTER, { spec: { gateway: { replicas: 5 }, worker: { replicas: 4 } } });
    const back = await f.waitForFullCount(CLUSTER, 120_000);
    const newcomers = back.filter((pod) => pod.name === `${CLUSTER}-gateway-4` || pod.name === `${CLUSTER}-worker-3`);
    assert.deepEqual(newcomers.map((pod) => pod.node), [drained, drained], 'the new gateway and worker go to the uncordoned node');
  });

  it('a node that dies under load: its clients reconnect to the others, the API answers, the operator replaces its pods, and only what its gateway held is lost', async () => {
    const pods = await f.pods(CLUSTER);
    const gateways = byComponent(pods, 'gateway');
    const victimName = [...new Set(pods.map((pod) => pod.node))].find((node) => {
      const on = pods.filter((pod) => pod.node === node);
      return on.some((pod) => pod.component === 'gateway') && on.some((pod) => pod.component === 'worker') && !on.some((pod) => pod.component === 'register' || pod.component === 'api');
    });
    assert.ok(victimName, `a node with a gateway and a worker but neither the Register nor the API: ${pods.map((p) => `${p.name}@${p.node}`).join(', ')}`);
    const victim = nodeLayoutNamed(victimName);
    enterServicesAvoiding(victim);
    const lostGateways = gateways.filter((pod) => pod.node === victimName);
    const lostIps = new Set(lostGateways.map((pod) => pod.ip));
    const faults = new Map<string, GatewayFault>();
    const pool = await startLoad('death', 300, gateways, faults);
    const affected = clientsOn(pool, gateways, lostIps);
    const lostClientIds = affected.map((client) => client.current!.clientId!);
    const liveClients = pool.clients.filter((client) => !affected.includes(client));
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
    const api = await f.api(CLUSTER);
    const prober = new ApiProber(api.base, api.key);
    probers.push(prober);
    prober.start([
      { kind: 'push to a live client', method: 'sendToClient', args: () => ({ clientId: pick(liveClients)?.current?.clientId, message: 'push' }) },
      { kind: 'isOnline of a live client', method: 'isOnline', args: () => ({ clientId: pick(liveClients)?.current?.clientId }) },
      { kind: 'isOnline of a lost client', method: 'isOnline', args: () => ({ clientId: pick(lostClientIds) }) },
      { kind: 'push to a lost client', method: 'sendToClient', args: () => ({ clientId: pick(lostClientIds), message: 'push' }) },
      { kind: 'count every gateway', method: 'getAllClientCount', args: () => ({}) },
    ]);
    await waitFor('the backend\'s first answers', () => prober.probes.length >= 10, 30_000, 100);
    const forceDeletedBefore = await forceDeletions();
    const liveGateways = gateways.filter((pod) => pod.node !== victimName);
    const redeliveredBefore = await redelivered(liveGateways);

    const cutAt = Date.now();
    for (const ip of lostIps) faults.set(ip, 'power-cut');
    await powerCut(nodeDir, victim.index);
    await waitFor('every client of the lost gateway to be connected again', () => affected.every((client) => (client.current?.openedAt ?? 0) > cutAt), 90_000, 100);
    const everyoneBack = Date.now() - cutAt;
    await f.waitForFullCount(CLUSTER, 180_000, victim);
    const fullCount = Date.now() - cutAt;
    const notReady = await notReadyAfter(victim, cutAt);
    await prober.stop();
    const tally = await finishLoad(pool);
    const lostSentAfterCut = tally.lostSentAt.filter((sentAt) => sentAt >= cutAt).length;
    const redeliveredAfterCut = (await redelivered(liveGateways)) - redeliveredBefore;
    const forceDeleted = diff(await forceDeletions(), forceDeletedBefore);

    const calls = (kind: string) => summarize(prober.since(kind, cutAt));
    const knownLost = cutAt + DETECTION_MS + 1000;
    const lostLater = prober.since('isOnline of a lost client', knownLost).filter((probe) => probe.startedAt >= knownLost);
    report('a node that dies (power cut) under load', {
      node: `${victimName} (${lostGateways.map((pod) => pod.name).join(', ')}, ${pods.filter((p) => p.node === victimName && p.component === 'worker').map((p) => p.name).join(', ')})`,
      clients: `${pool.clients.length}, ${affected.length} on the lost gateway`,
      'node NotReady after': `${seconds(notReady)} s`,
      'every client connected again after': `${seconds(everyoneBack)} s`,
      'reconnect, from the cut (clients of the lost gateway)': percentiles(backAfter(affected, pool, cutAt)),
      'reconnect, from close to open': percentiles(pool.reconnectMs),
      'full gateway and worker count after': `${seconds(fullCount)} s`,
      'pods force-deleted': forceDeleted,
      messages: { sent: tally.sent, handled: tally.handled, lost: tally.lost, lostByEnd: tally.lostByEnd, duplicates: tally.duplicates, unflagged: tally.unflagged },
      'events of the lost worker redelivered by the other gateways': redeliveredAfterCut,
      'lost, by when they were sent': { 'before the cut (held by the gateway, or on their way to it)': tally.lost - lostSentAfterCut, 'after the cut (into a connection whose gateway was gone, before the client noticed)': lostSentAfterCut },
      'API calls under way at the cut or after it': Object.fromEntries(['push to a live client', 'isOnline of a live client', 'count every gateway', 'isOnline of a lost client', 'push to a lost client'].map((kind) => [kind, calls(kind)])),
      [`isOnline of a lost client from ${seconds(knownLost - cutAt)} s on`]: summarize(lostLater),
    });

    assert.deepEqual(Object.keys(tally.lostByEnd).filter((end) => end !== 'gateway-power-cut'), [], `lost only what the dead gateway held: ${JSON.stringify(tally.lostByEnd)}`);
    assert.ok(tally.sent > 0 && tally.settled, 'every message that reached a live gateway was echoed');
    assert.equal(tally.unflagged, 0, 'every repeat flagged ctx.redelivery');
    assert.ok(everyoneBack < 60_000, `every client back within a minute (${everyoneBack} ms)`);
    assert.ok(fullCount < 150_000, `full count again within 150 s (${fullCount} ms)`);
    assert.ok((forceDeleted['NodeUnreachable/gateway'] ?? 0) >= 1 && (forceDeleted['NodeUnreachable/worker'] ?? 0) >= 1, `the operator replaced the gateway and the worker: ${JSON.stringify(forceDeleted)}`);
    for (const kind of ['push to a live client', 'isOnline of a live client', 'count every gateway']) {
      const late = prober.since(kind, cutAt).filter((probe) => probe.ms > API_REQUEST_TIMEOUT_MS + 1500 || probe.status !== 200);
      assert.deepEqual(late, [], `${kind}: never delayed by more than one request timeout`);
    }
    assert.ok(lostLater.length > 0 && lostLater.every((probe) => probe.status === 200 && probe.result === false && probe.ms < 1000), `once the gateway is known lost, isOnline of its clients answers false at once: ${JSON.stringify(lostLater.filter((p) => p.status !== 200 || p.result !== false || p.ms >= 1000).slice(0, 5))}`);
  });

  it('the Register\'s node dies: the gateways and workers left serve on, a new Register gets the directory back, a worker added meanwhile finds every gateway', async () => {
    const pods = await f.pods(CLUSTER);
    const register = byComponent(pods, 'register')[0]!;
    const victim = nodeLayoutNamed(register.node);
    enterServicesAvoiding(victim);
    const gateways = byComponent(pods, 'gateway');
    const survivors = gateways.filter((pod) => pod.node !== victim.name);
    assert.ok(survivors.length > 0, 'gateways on another node than the Register');
    const faults = new Map<string, GatewayFault>();
    const pool = await startLoad('register', 90, gateways, faults);
    const onSurvivors = clientsOn(pool, gateways, new Set(survivors.map((pod) => pod.ip)));
    const connectionsBefore = new Map(onSurvivors.map((client) => [client, client.current!.id]));
    const { spec } = await f.operator.getCluster(ns, CLUSTER);

    const cutAt = Date.now();
    for (const pod of gateways) if (pod.node === victim.name) faults.set(pod.ip, 'power-cut');
    await powerCut(nodeDir, victim.index);
    await f.operator.patchCluster(ns, CLUSTER, { spec: { worker: { replicas: spec.worker.replicas + 1 } } });
    const newWorker = `${CLUSTER}-worker-${spec.worker.replicas}`;

    const newRegister = await waitFor('a new Register pod on another node', async () => byComponent(await f.pods(CLUSTER), 'register').find((pod) => pod.ready && pod.uid !== register.uid), 150_000, 250);
    const registerBack = Date.now() - cutAt;
    const full = await f.waitForFullCount(CLUSTER, 180_000, victim);
    const fullCount = Date.now() - cutAt;
    const readyGateways = byComponent(full, 'gateway').length;
    await waitFor('the new Register to list every gateway again', async () => (await scrapeMetric(`http://${newRegister.ip}:9236/metrics`, 'gwc_register_gateways')) === readyGateways, 60_000, 250);
    const worker = full.find((pod) => pod.name === newWorker)!;
    await waitFor(`${newWorker} to reach every gateway`, async () => (await scrapeMetric(`http://${worker.ip}:9300/metrics`, 'gwc_worker_gateways')) === readyGateways, 60_000, 250);
    const directoryBack = Date.now() - cutAt;
    const stayed = [...connectionsBefore].filter(([client, id]) => client.current?.id === id);
    const tally = await finishLoad(pool);

    report('the Register\'s node dies', {
      node: `${victim.name} (${pods.filter((p) => p.node === victim.name).map((p) => p.name).join(', ')})`,
      'new Register ready after': `${seconds(registerBack)} s, on ${newRegister.node}`,
      'directory whole and the new worker on every gateway after': `${seconds(directoryBack)} s`,
      'full count after': `${seconds(fullCount)} s`,
      'clients of surviving gateways still on their first connection': `${stayed.length} of ${onSurvivors.length}`,
      messages: { sent: tally.sent, handled: tally.handled, lost: tally.lost, lostByEnd: tally.lostByEnd, duplicates: tally.duplicates, unflagged: tally.unflagged },
    });
    assert.equal(stayed.length, onSurvivors.length, 'the clients of the gateways left kept their connections');
    assert.deepEqual(Object.keys(tally.lostByEnd).filter((end) => end !== 'gateway-power-cut'), [], `lost only what the dead gateway held: ${JSON.stringify(tally.lostByEnd)}`);
    assert.ok(tally.settled);
  });

  /** Events the gateways given have redelivered since they started. */
  async function redelivered(gateways: Pod[]): Promise<number> {
    const counts = await Promise.all(gateways.map((pod) => scrapeMetric(`http://${pod.ip}:9272/metrics`, 'gwc_gateway_events_redelivered_total')));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** The operator's force-deletions so far, by reason/component. */
  async function forceDeletions(): Promise<Record<string, number>> {
    const metric = await f.controller.metrics.podsForceDeleted.get();
    return Object.fromEntries(metric.values.map((v) => [`${v.labels.reason}/${v.labels.component}`, v.value]));
  }

  /** How long after `since` the node's Ready condition left True, as the API server recorded it. */
  async function notReadyAfter(node: NodeLayout, since: number): Promise<number> {
    const object = await f.operator.read(`/api/v1/nodes/${node.name}`);
    const ready = (object.status.conditions as Array<{ type: string; status: string; lastTransitionTime: string }>).find((c) => c.type === 'Ready')!;
    assert.notEqual(ready.status, 'True', `${node.name} is not Ready`);
    return Date.parse(ready.lastTransitionTime) - since;
  }
});

function nodeLayoutNamed(name: string): NodeLayout {
  const index = Number(/(\d+)$/.exec(name)?.[1]);
  const layout = nodeLayout(index);
  assert.equal(layout.name, name);
  return layout;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]).filter(([, value]) => (value as number) > 0));
}

/** Count, statuses, and p50 / p99 / max of the calls' times. */
function summarize(probes: Probe[]): Record<string, unknown> {
  const { count, p50Ms, p99Ms, maxMs } = percentiles(probes.map((probe) => probe.ms));
  return { count, p50Ms, p99Ms, maxMs, statuses: countBy(probes.map((probe) => String(probe.status))) };
}
