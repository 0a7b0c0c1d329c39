import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { INTERNAL_PORT, REGISTER_PORT, TestCluster } from '../harness/test-cluster.js';
import { WsTestClient, type TestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

/** The fixture's `whoami`: which client this is and which worker answered. */
async function whoami(client: TestClient, timeoutMs = 10_000): Promise<{ clientId: string; worker: string }> {
  const id = `who-${Math.random().toString(36).slice(2)}`;
  client.send(JSON.stringify({ op: 'whoami', id }));
  const reply = JSON.parse(await client.next((m) => m.includes(`"id":"${id}"`), timeoutMs)) as { worker: string; result: { clientId: string } };
  return { clientId: reply.result.clientId, worker: reply.worker };
}

describe('a worker killed with SIGKILL', () => {
  const cluster = new TestCluster({ gateways: 2, workers: 2 });
  before(() => cluster.start());
  after(() => cluster.stop());

  it('its clients are served by the surviving worker, and no client connection closes', async () => {
    const gatewayOf = [0, 0, 0, 0, 1, 1, 1, 1];
    const clients = await Promise.all(gatewayOf.map((g) => WsTestClient.open(cluster.gatewayUrl(g))));
    const before = await Promise.all(clients.map((client) => whoami(client)));
    const victim = cluster.workers[0]!;
    const survivor = cluster.workers[1]!;
    for (const g of [0, 1]) {
      assert.ok(before.some((me, i) => gatewayOf[i] === g && me.worker === victim.label), `gateway${g} has a client on ${victim.label}`);
    }

    const marks = cluster.gateways.map((gateway) => gateway.logs.length);
    await victim.stop('SIGKILL');
    await Promise.all(cluster.gateways.map((gateway, i) =>
      gateway.waitForEvent('worker-disconnected', { worker: victim.label, workers: 1 }, 10_000, marks[i])));

    for (const [i, client] of clients.entries()) {
      const now = await whoami(client);
      assert.equal(now.clientId, before[i]!.clientId, 'the same client connection');
      assert.equal(now.worker, survivor.label, `client ${i} is answered by the surviving worker`);
    }
    for (const [i, client] of clients.entries()) assert.equal(client.closed, false, `client ${i} stayed connected`);
    for (const client of clients) client.close();
  });
});

/** One WebSocket client of the traffic test: what it sent and everything it received, in order. */
interface Talker {
  index: number;
  client: WsTestClient;
  clientId: string;
  /** The client on the other gateway this one sends to through sendToClient. */
  peer?: Talker;
  received: string[];
  iterations: number;
  crossSent: number;
}

describe('the Register killed and restarted while clients talk', () => {
  const cluster = new TestCluster({ gateways: 2, workers: 2 });
  before(() => cluster.start());
  after(() => cluster.stop());

  it('no client connection closes, no message is lost, and the cluster is whole again afterwards', async () => {
    const CLIENTS = 20;
    const MAX_ITERATIONS = 3000;
    const talkers: Talker[] = await Promise.all(Array.from({ length: CLIENTS }, async (_, index) => {
      const client = await WsTestClient.open(cluster.gatewayUrl(index % 2));
      const received: string[] = [];
      client.ws.on('message', (data: Buffer) => received.push(data.toString('utf8')));
      return { index, client, clientId: (await whoami(client)).clientId, received, iterations: 0, crossSent: 0 };
    }));
    // Neighbours sit on different gateways, so every cross send crosses gateways.
    for (const talker of talkers) talker.peer = talkers[(talker.index + 1) % CLIENTS];

    let stop = false;
    let failure: Error | undefined;
    // Each client: an echo round trip per iteration, and every fourth iteration a sendToClient to its peer.
    const talk = async (t: Talker) => {
      for (let n = 0; n < MAX_ITERATIONS && !stop; n++) {
        const echo = `e|${t.index}|${n}`;
        t.client.send(echo);
        let apiId: string | undefined;
        if (n % 4 === 0) {
          apiId = `x${t.index}-${n}`;
          t.client.send(JSON.stringify({ op: 'api', id: apiId, method: 'sendToClient', args: [t.peer!.clientId, `x|${t.index}|${t.crossSent++}`] }));
        }
        await t.client.next((m) => m === echo, 10_000);
        if (apiId !== undefined) {
          const reply = JSON.parse(await t.client.next((m) => m.includes(`"id":"${apiId}"`), 10_000)) as { error?: string };
          assert.equal(reply.error, undefined, `sendToClient from client ${t.index} failed`);
        }
        t.iterations = n + 1;
      }
    };
    const traffic = Promise.all(talkers.map((t) => talk(t).catch((error: Error) => {
      failure ??= new Error(`client ${t.index}: ${error.message}`);
      throw failure;
    })));
    traffic.catch(() => {});
    /** Waits until every client has made `more` further round trips; stops early when one has failed. */
    const progress = async (what: string, more: number) => {
      const targets = talkers.map((t) => t.iterations + more);
      await waitFor(`every client to make ${more} more round trips ${what}`,
        () => failure !== undefined || talkers.every((t, i) => t.iterations >= targets[i]! || t.iterations >= MAX_ITERATIONS), 20_000);
      if (failure) throw failure;
    };

    await progress('before the kill', 5);
    const gatewayMarks = cluster.gateways.map((gateway) => gateway.logs.length);
    const workerMarks = cluster.workers.map((worker) => worker.logs.length);
    await cluster.register.stop('SIGKILL');
    await Promise.all(cluster.gateways.map((gateway, i) => gateway.waitForEvent('connection-lost', {}, 10_000, gatewayMarks[i])));
    await progress('while the Register is down', 5);

    cluster.register = cluster.startRegister();
    await cluster.register.waitForEvent('ready', {}, 10_000);
    await Promise.all(cluster.gateways.map((gateway, i) => gateway.waitForEvent('announced', {}, 20_000, gatewayMarks[i])));
    await Promise.all(cluster.workers.map((worker, i) => worker.waitForEvent('subscribed', {}, 20_000, workerMarks[i])));
    for (const g of [0, 1]) {
      await cluster.register.waitForEvent('gateway-joined', { address: `${cluster.gatewayIp(g)}:${INTERNAL_PORT}` }, 10_000);
    }
    await progress('after the restart', 5);
    stop = true;
    await traffic;

    for (const t of talkers) {
      const sender = talkers[(t.index + CLIENTS - 1) % CLIENTS]!;
      await waitFor(`client ${t.index} to receive all ${sender.crossSent} cross-gateway messages`,
        () => t.received.filter((m) => m.startsWith('x|')).length >= sender.crossSent, 10_000);
      const echoes = t.received.filter((m) => m.startsWith('e|'));
      assert.deepEqual(echoes, Array.from({ length: t.iterations }, (_, n) => `e|${t.index}|${n}`), `client ${t.index}: every echo, once, in order`);
      const cross = t.received.filter((m) => m.startsWith('x|'));
      assert.deepEqual(cross, Array.from({ length: sender.crossSent }, (_, n) => `x|${sender.index}|${n}`),
        `client ${t.index}: every message from client ${sender.index}, once, in order`);
      assert.equal(t.client.closed, false, `client ${t.index} stayed connected`);
    }

    const newcomer = await WsTestClient.open(cluster.gatewayUrl(1));
    const newcomerId = (await whoami(newcomer)).clientId;
    await talkers[0]!.client.request('api', { method: 'sendToClient', args: [newcomerId, 'welcome'] }, 10_000);
    assert.equal(await newcomer.next((m) => m === 'welcome', 10_000), 'welcome');

    const api = await cluster.api();
    assert.equal(await api.getAllClientCount(), CLIENTS + 1, 'a GatewayClient made after the restart counts the clients of both gateways');
    for (const t of talkers) t.client.close();
    newcomer.close();
  });
});

describe('a gateway killed with SIGKILL', () => {
  const cluster = new TestCluster({ gateways: 2, workers: 2 });
  before(() => cluster.start());
  after(() => cluster.stop());

  it('the other gateway\'s clients keep working, and fan-out queries answer once the dead gateway is unlisted', async () => {
    const survivors = await Promise.all([0, 0, 0].map((g) => WsTestClient.open(cluster.gatewayUrl(g))));
    const doomed = await Promise.all([1, 1].map((g) => WsTestClient.open(cluster.gatewayUrl(g))));
    const survivorIds = await Promise.all(survivors.map(async (client) => (await whoami(client)).clientId));
    const api = await cluster.api();
    assert.equal(await api.getAllClientCount(), 5);

    const deadAddress = `${cluster.gatewayIp(1)}:${INTERNAL_PORT}`;
    const workerMarks = cluster.workers.map((worker) => worker.logs.length);
    const registerMark = cluster.register.logs.length;
    await cluster.gateways[1]!.stop('SIGKILL');
    for (const client of doomed) await client.waitClosed(10_000);

    await cluster.register.waitForEvent('gateway-left', { address: deadAddress }, 10_000, registerMark);
    await Promise.all(cluster.workers.map(async (worker, i) => {
      await worker.waitForEvent('connection-lost', { address: deadAddress }, 10_000, workerMarks[i]);
      await worker.waitForEvent('gateway-dropped', { gateway: deadAddress }, 10_000, workerMarks[i]);
    }));

    for (const [i, client] of survivors.entries()) {
      client.send(`still here ${i}`);
      assert.equal(await client.next((m) => m === `still here ${i}`, 10_000), `still here ${i}`);
    }
    await survivors[0]!.request('api', { method: 'sendToClient', args: [survivorIds[2], 'from a neighbour'] }, 10_000);
    assert.equal(await survivors[2]!.next((m) => m === 'from a neighbour', 10_000), 'from a neighbour');

    await waitFor('the API client to forget the dead gateway', () => !api.cluster.targets().includes(deadAddress), 10_000);
    assert.equal(await api.getAllClientCount(), 3, 'the API client counts the surviving gateway\'s clients');
    assert.equal(await survivors[1]!.request('api', { method: 'getAllClientCount' }, 10_000), 3, 'so does a handler');
    for (const client of survivors) assert.equal(client.closed, false);
    for (const client of survivors) client.close();
  });
});

describe('a worker started before the Register and the gateways', () => {
  const cluster = new TestCluster({ gateways: 1, workers: 1 });
  after(() => cluster.stop());

  it('redials the Register with growing delays, then connects once the cluster is up', async () => {
    await cluster.claim();
    // A listener on the Register's address that drops every connection: it timestamps the worker's dials.
    const dials: number[] = [];
    const observer = createServer((socket) => {
      dials.push(Date.now());
      socket.on('error', () => {});
      socket.destroy();
    });
    await new Promise<void>((resolve) => observer.listen(REGISTER_PORT, cluster.ip(1), resolve));

    const worker = cluster.startWorker(0);
    cluster.workers.push(worker);
    await waitFor('five dials of the Register address', () => {
      worker.assertRunning('five dials of the Register address');
      return dials.length >= 5;
    }, 20_000);
    await new Promise<void>((resolve) => observer.close(() => resolve()));

    // Backoff starts at 100 ms and doubles, with ±20% jitter: the n-th wait is at least 80 * 2^n ms. Only lower
    // bounds are checked (a loaded machine only lengthens waits), less 50 ms for this process's own timing lag.
    const gaps = dials.slice(1, 5).map((time, i) => time - dials[i]!);
    for (const [n, gap] of gaps.entries()) {
      assert.ok(gap >= 80 * 2 ** n - 50, `wait ${n} before redialling was ${gap} ms, expected about ${80 * 2 ** n} or more (gaps: ${gaps.join(', ')})`);
    }

    const workerMark = worker.logs.length;
    cluster.register = cluster.startRegister();
    await cluster.register.waitForEvent('ready');
    cluster.gateways.push(cluster.startGateway(0));
    await cluster.gateways[0]!.waitForEvent('ready');
    await worker.waitForEvent('subscribed', {}, 20_000, workerMark);
    await worker.waitForEvent('gateway-connected', {}, 20_000, workerMark);
    await cluster.waitForWorkersOnAllGateways(20_000);

    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('late but fine');
    assert.equal(await client.next((m) => m === 'late but fine', 10_000), 'late but fine');
    assert.ok(worker.alive, 'the worker never exited');
    assert.equal(worker.logs.filter((record) => record.level === 'error').length, 0, 'the worker logged no errors');
    client.close();
  });
});
