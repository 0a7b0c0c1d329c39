import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const CLIENTS = 20;

describe('a gateway stopped with SIGTERM drains', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 1, gatewayArgs: ['--drain-seconds', '2'] });

  it('leaves the Register first, then closes its clients with 1012 spread over the drain, and exits 0', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => WsTestClient.open(cluster.gatewayUrl(0))));
    const closedAt = new Map<WsTestClient, number>();
    for (const client of clients) client.ws.on('close', () => closedAt.set(client, Date.now()));
    const gateway = cluster.gateways[0]!;
    const stopping = gateway.stop('SIGTERM', 20_000);
    await cluster.register.waitForEvent('gateway-left', {}, 5000);
    const leftAt = Date.now();
    // While draining, clients not yet closed are still served. The last is the one closed last: the first ones
    // may be closing already, their close frames on the way, when the Register reports the gateway gone.
    const survivor = await waitFor('a client still open after the gateway left the Register', () => clients.findLast((c) => !c.closed), 1000);
    assert.equal(typeof (await survivor.request<{ clientId: string }>('whoami')).clientId, 'string');

    await waitFor('every client closed', () => clients.every((c) => c.closed), 10_000);
    await stopping;
    assert.deepEqual([...new Set(clients.map((c) => c.closeCode))], [1012]);
    const times = [...closedAt.values()];
    const spread = Math.max(...times) - Math.min(...times);
    assert.ok(spread >= 1200, `closes spread over ${spread} ms (drain of 2 s)`);
    assert.ok(Math.max(...times) > leftAt, 'the last clients closed after the gateway had left the Register');
    assert.equal(gateway.exit?.code, 0);
  });
});

describe('a gateway stopped with SIGTERM finishes what its clients sent', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 1, gatewayArgs: ['--drain-seconds', '0', '--client-window', '1'] });

  it('keeps its worker connections until the events it still held are handled, then exits 0', async () => {
    const workerMetrics = `http://${cluster.ip(20)}:9300/metrics`;
    const handled = () => scrapeMetric(workerMetrics, 'gwc_worker_events_handled_total');
    const inFlight = () => scrapeMetric(workerMetrics, 'gwc_worker_events_in_flight');
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    await waitFor('the connect events handled', async () => (await inFlight()) === 0, 5000);
    const before = await handled();
    // A client window of 1: the gateway sends the worker one event of this client at a time and holds the others.
    for (let n = 0; n < 3; n++) client.send(JSON.stringify({ op: 'slow', id: `s${n}`, ms: 400 }));
    await waitFor('the first slow event running', async () => (await inFlight()) === 1, 5000);
    const gateway = cluster.gateways[0]!;
    await gateway.stop('SIGTERM', 20_000);
    assert.equal(gateway.exit?.code, 0);
    // Three messages and the close, all handled by the time the gateway had gone.
    assert.equal(await handled(), before + 4);
    assert.equal(client.closeCode, 1012);
  });
});
