import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const CLIENTS = 20;

describe('a gateway stopped with SIGTERM drains', () => {
  const cluster = clusterForSuite({ subnet: 30, gateways: 1, workers: 1, gatewayArgs: ['--drain-seconds', '2'] });

  it('leaves the Register first, then closes its clients with 1012 spread over the drain, and exits 0', async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => WsTestClient.open(cluster.gatewayUrl(0))));
    const closedAt = new Map<WsTestClient, number>();
    for (const client of clients) client.ws.on('close', () => closedAt.set(client, Date.now()));
    const gateway = cluster.gateways[0]!;
    const stopping = gateway.stop('SIGTERM', 20_000);
    await cluster.register.waitForLog('gateway left', {}, 5000);
    const leftAt = Date.now();
    // While draining, clients not yet closed are still served.
    const survivor = await waitFor('a client still open after the gateway left the Register', () => clients.find((c) => !c.closed), 1000);
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
