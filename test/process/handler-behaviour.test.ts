import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CLIENT_PORT, TestCluster } from '../harness/test-cluster.js';
import { TcpTestClient, WsTestClient, type TestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const lifecycleHandler = fileURLToPath(new URL('../fixtures/lifecycle-handler.js', import.meta.url));
const PING_LINE = '{"type":"ping"}';
const PING_LIMIT = 2;
const heartbeatArgs = ['--ping-interval', '0.2', '--ping-data', PING_LINE];

/** Sends a fixture request and returns the whole reply, including which worker answered. */
async function ask(client: TestClient, op: string, args: Record<string, unknown> = {}, timeoutMs = 10_000) {
  const id = `${op}-${Math.random().toString(36).slice(2)}`;
  client.send(JSON.stringify({ op, id, ...args }));
  return JSON.parse(await client.next((m) => m.includes(`"id":"${id}"`), timeoutMs)) as { worker: string; result: { clientId: string } };
}

describe('handler behaviour', () => {
  // gateway0: WebSocket, sticky; gateway1: WebSocket, random router; gateway2: text, heartbeat with a limit;
  // gateway3: WebSocket, protocol pings with a limit; gateway4: text, heartbeat without a limit.
  const cluster = new TestCluster({ gateways: 1, workers: 2, handler: lifecycleHandler, workerArgs: ['--process-timeout', '0.3'] });
  before(async () => {
    await cluster.start();
    cluster.gateways.push(
      cluster.startGateway(1, ['--router', 'random']),
      cluster.startGateway(2, ['--protocol', 'text', ...heartbeatArgs, '--ping-not-response-limit', String(PING_LIMIT)]),
      cluster.startGateway(3, ['--ping-interval', '0.2', '--ping-not-response-limit', String(PING_LIMIT)]),
      cluster.startGateway(4, ['--protocol', 'text', ...heartbeatArgs, '--ping-not-response-limit', '0']),
    );
    await Promise.all(cluster.gateways.map((gateway) => gateway.waitForEvent('ready', {}, 15_000)));
    await cluster.waitForWorkersOnAllGateways();
  });
  after(() => cluster.stop());

  const workerNamed = (name: string) => {
    const worker = cluster.workers.find((w) => w.label === name);
    assert.ok(worker, `a worker called ${name}`);
    return worker;
  };

  it('onWorkerStart ran in every worker', () => {
    for (const worker of cluster.workers) assert.ok(worker.hasLog('fixture onWorkerStart', { worker: worker.label }));
  });

  it('a handler that throws is logged with the client id, and the client\'s next message is still handled', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const me = await ask(client, 'whoami');
    const worker = workerNamed(me.worker);
    const mark = worker.logs.length;
    client.send(JSON.stringify({ op: 'throw', id: 'boom' }));
    const logged = await worker.waitForLog('handler threw', { clientId: me.result.clientId }, 10_000, mark);
    assert.equal(logged.event, 'Message');
    assert.match(JSON.stringify(logged.error), /handler failure requested by the test/);
    const again = await ask(client, 'whoami');
    assert.equal(again.result.clientId, me.result.clientId);
    assert.equal(again.worker, me.worker);
    client.close();
  });

  it('a handler running past --process-timeout is reported with the client id, and its reply still arrives', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const me = await ask(client, 'whoami');
    const worker = workerNamed(me.worker);
    const mark = worker.logs.length;
    const reply = await ask(client, 'slow', { ms: 1200 }, 15_000);
    assert.equal(reply.result, 'done');
    const warning = await worker.waitForLog('processTimeout: handler still running', { clientId: me.result.clientId }, 10_000, mark);
    assert.equal(warning.level, 'warn');
    assert.ok(Number(warning.elapsedMs) >= 300, `reported after ${String(warning.elapsedMs)} ms`);
    client.close();
  });

  it('the random router spreads one client\'s messages over both workers', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(1));
    const workers = new Set<string>();
    for (let i = 0; i < 40; i++) workers.add((await ask(client, 'whoami')).worker);
    assert.deepEqual([...workers].sort(), cluster.workers.map((w) => w.label).sort());
    client.close();
  });

  describe('heartbeats', () => {
    const pings = (client: TestClient) => client.inbox.filter((m) => m === PING_LINE).length;

    it(`a silent text client gets ${PING_LIMIT} ping lines and is then closed`, async () => {
      const opened = Date.now();
      const client = await TcpTestClient.open(cluster.gatewayIp(2), CLIENT_PORT, 'text');
      await client.waitClosed(10_000);
      const lifetime = Date.now() - opened;
      assert.equal(pings(client), PING_LIMIT, `got ${JSON.stringify(client.inbox)}`);
      assert.ok(lifetime >= PING_LIMIT * 200 - 50, `closed after ${lifetime} ms, expected at least ${PING_LIMIT} intervals`);
    });

    it('a text client that answers every ping stays open', async () => {
      const client = await TcpTestClient.open(cluster.gatewayIp(2), CLIENT_PORT, 'text');
      client.socket.on('data', (chunk: Buffer) => {
        if (chunk.includes(PING_LINE)) client.send('still here');
      });
      await waitFor('four times the limit in pings', () => {
        if (client.closed) throw new Error('the gateway closed a client that kept sending');
        return pings(client) >= PING_LIMIT * 4;
      }, 15_000);
      assert.equal(client.closed, false);
      assert.ok(client.inbox.includes('still here'), 'its messages reached the worker');
      client.close();
    });

    it('a WebSocket client gets protocol pings with empty --ping-data, and its automatic pongs keep it open', async () => {
      const client = await WsTestClient.open(cluster.gatewayUrl(3));
      let pingFrames = 0;
      client.ws.on('ping', () => pingFrames++);
      await waitFor('four times the limit in ping frames', () => {
        if (client.closed) throw new Error(`closed with ${client.closeCode} after ${pingFrames} pings`);
        return pingFrames >= PING_LIMIT * 4;
      }, 15_000);
      assert.equal(client.inbox.length, 0, 'the pings were frames, not messages');
      client.send('after the pings');
      assert.equal(await client.next((m) => m === 'after the pings', 10_000), 'after the pings');
      client.close();
    });

    it('with --ping-not-response-limit 0 a silent client is never closed', async () => {
      const client = await TcpTestClient.open(cluster.gatewayIp(4), CLIENT_PORT, 'text');
      await waitFor('many more pings than any limit', () => {
        if (client.closed) throw new Error(`closed after ${pings(client)} pings`);
        return pings(client) >= 8;
      }, 15_000);
      assert.equal(client.closed, false);
      client.close();
    });
  });

  describe('graceful stop (last: it stops processes)', () => {
    it('SIGTERM to a gateway closes its WebSocket clients with 1012 and exits 0', async () => {
      const clients = await Promise.all([0, 1].map(() => WsTestClient.open(cluster.gatewayUrl(0))));
      for (const client of clients) await ask(client, 'whoami');
      const gateway = cluster.gateways[0]!;
      await gateway.stop('SIGTERM', 15_000);
      assert.deepEqual(gateway.exit, { code: 0, signal: null });
      for (const client of clients) {
        await client.waitClosed(10_000);
        assert.equal(client.closeCode, 1012);
      }
      assert.ok(gateway.hasEvent('stopped'));
    });

    it('SIGTERM to a worker runs onWorkerStop and exits 0', async () => {
      const worker = cluster.workers[0]!;
      await worker.stop('SIGTERM', 15_000);
      assert.deepEqual(worker.exit, { code: 0, signal: null });
      assert.ok(worker.hasLog('fixture onWorkerStop', { worker: worker.label }), 'onWorkerStop ran');
      assert.ok(worker.hasEvent('stopped'));
    });
  });
});
