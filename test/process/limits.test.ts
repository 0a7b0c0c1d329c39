import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCluster, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const LIMIT = 20;

describe('client limits: message rate and WebSocket origin', () => {
  const cluster = clusterForSuite({
    gateways: 1,
    workers: 1,
    gatewayArgs: ['--max-messages-per-second', String(LIMIT), '--allowed-origins', 'https://good.example, https://also.example'],
  });
  const good = { headers: { origin: 'https://good.example' } };

  const metric = (name: string) => scrapeMetric(`http://${cluster.gatewayIp(0)}:9272/metrics`, name);

  it('refuses an upgrade from another origin, or with none, with 403', async () => {
    await assert.rejects(WsTestClient.open(cluster.gatewayUrl(0), { headers: { origin: 'https://evil.example' } }), /HTTP 403/);
    await assert.rejects(WsTestClient.open(cluster.gatewayUrl(0)), /HTTP 403/);
    const client = await WsTestClient.open(cluster.gatewayUrl(0), { headers: { origin: 'https://also.example' } });
    client.close();
    assert.equal(await metric('gwc_gateway_connections_refused_total{reason="origin",role="gateway"}'), 2);
  });

  it('closes a client past the message rate with 1008, and serves one within it', async () => {
    const calm = await WsTestClient.open(cluster.gatewayUrl(0), good);
    const flood = await WsTestClient.open(cluster.gatewayUrl(0), good);
    for (let i = 0; i < LIMIT * 5; i++) flood.send(`flood ${i}`);
    await flood.waitClosed(10_000);
    assert.equal(flood.closeCode, 1008);
    const echoed = flood.inbox.filter((m) => m.startsWith('flood')).length;
    assert.ok(echoed <= LIMIT, `at most the limit was handled (${echoed})`);
    assert.equal(await metric('gwc_gateway_connections_refused_total{reason="rate-limit",role="gateway"}'), 1);

    for (let i = 0; i < 5; i++) assert.equal(typeof (await calm.request<{ clientId: string }>('whoami')).clientId, 'string');
    assert.equal(calm.closed, false);
    await waitFor('the gateway to still be alive', () => cluster.gateways[0]!.alive, 1000);
    calm.close();
  });
});
