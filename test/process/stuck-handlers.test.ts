/**
 * A few stuck handlers do not stall everyone: 64 clients whose onMessage never returns, 64 messages each, would fill a
 * worker's whole window (64 x 64 = 4096) if each took what its own window allows. Each gets only a fair share, so a
 * fresh client is served while they are stuck; and once they are released every one of their messages is handled.
 * A handler that never returns at all is given up after --abandon-timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const STUCK_CLIENTS = 64;
const MESSAGES_EACH = 64;
const GATEWAY_METRICS_PORT = 9272;

describe('stuck handlers and the worker window (default windows: 4096 per worker, 64 per client)', () => {
  const cluster = clusterForSuite({ workerArgs: ['--abandon-timeout', '0'] });
  const metric = (name: string) => scrapeMetric(`http://${cluster.gatewayIp(0)}:${GATEWAY_METRICS_PORT}/metrics`, name);

  it('a fresh client is echoed within 1 s while 64 clients are stuck, and everything is handled once they are released', async () => {
    const stuck = await Promise.all(Array.from({ length: STUCK_CLIENTS }, () => WsTestClient.open(cluster.gatewayUrl(0))));
    for (const [c, client] of stuck.entries()) {
      for (let n = 1; n <= MESSAGES_EACH; n++) client.send(JSON.stringify({ op: 'hold', id: `c${c}-${n}`, n, key: 'stuck' }));
    }
    // Every stuck client has its first message running (and holds some more at the worker) before the fresh one comes.
    await waitFor('every stuck client to be running a handler', async () => (await metric('gwc_gateway_unacknowledged_events')) >= STUCK_CLIENTS, 20_000, 50);
    const held = await metric('gwc_gateway_unacknowledged_events');
    assert.ok(held <= 0.9 * 4096, `the stuck clients hold ${held} of the worker's 4096 slots: at least a tenth is left for others`);

    const fresh = await WsTestClient.open(cluster.gatewayUrl(0));
    const started = Date.now();
    fresh.send('hello while they are stuck');
    assert.equal(await fresh.next(() => true, 1000), 'hello while they are stuck');
    const latencyMs = Date.now() - started;
    console.log(`fresh-client echo under ${STUCK_CLIENTS} stuck clients (${held} events held): ${latencyMs} ms`);
    assert.equal(stuck.every((client) => client.inbox.length === 0), true, 'the stuck ones are still stuck');

    const releaser = await WsTestClient.open(cluster.gatewayUrl(0));
    await releaser.request('release', { key: 'stuck' }, 5000);
    await waitFor(`all ${STUCK_CLIENTS * MESSAGES_EACH} held messages answered`, () => stuck.every((client) => client.inbox.length === MESSAGES_EACH), 60_000, 50);
    for (const client of stuck) {
      const order = client.inbox.map((text) => (JSON.parse(text) as { result: { n: number } }).result.n);
      assert.deepEqual(order, Array.from({ length: MESSAGES_EACH }, (_, i) => i + 1), 'each client\'s messages handled once, in order');
    }
    fresh.send('hello after');
    assert.equal(await fresh.next(() => true, 5000), 'hello after');
    await waitFor('nothing left unacknowledged', async () => (await metric('gwc_gateway_unacknowledged_events')) === 0, 10_000, 50);
    for (const client of [...stuck, fresh, releaser]) client.close();
  });
});

describe('--abandon-timeout', () => {
  const cluster = clusterForSuite({ workerArgs: ['--abandon-timeout', '1', '--process-timeout', '0.5'] });

  it('gives up a callback that never returns: its event is acknowledged, logged, and the client\'s next message runs', async () => {
    const worker = cluster.workers[0]!;
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = await client.request<{ clientId: string }>('whoami');
    const mark = worker.logs.length;
    client.send(JSON.stringify({ op: 'hold', id: 'forever', key: 'never-released' }));
    client.send('next');
    const started = Date.now();
    assert.equal(await client.next((m) => m === 'next', 5000), 'next');
    const waitedMs = Date.now() - started;
    assert.ok(waitedMs >= 900, `the next message waited for the abandon timeout (${waitedMs} ms)`);
    const given = await worker.waitForLog('abandonTimeout: handler given up, its event acknowledged', { clientId }, 5000, mark);
    assert.equal(given.abandonTimeoutMs, 1000);
    assert.ok(worker.hasLog('processTimeout: handler still running', { clientId }), 'reported as slow first');
    const metrics = `http://${cluster.ip(20)}:9300/metrics`;
    assert.equal(await scrapeMetric(metrics, 'gwc_worker_events_abandoned_total'), 1);
    await waitFor('the gateway to hold nothing for it', async () =>
      (await scrapeMetric(`http://${cluster.gatewayIp(0)}:${GATEWAY_METRICS_PORT}/metrics`, 'gwc_gateway_unacknowledged_events')) === 0, 5000, 50);
    client.close();
  });
});
