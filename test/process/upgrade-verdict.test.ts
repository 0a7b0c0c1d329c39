import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCluster, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';

/** How an upgrade attempt ended: opened, or refused with an HTTP status and body. */
async function attempt(url: string): Promise<{ opened: boolean; status?: number; body?: string; client?: WsTestClient }> {
  const ws = new WebSocket(url);
  // Collecting from the start: a message sent with the upgrade's answer arrives in the same chunk as it.
  const client = new WsTestClient(ws);
  return withTimeout(`upgrade to ${url}`, new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ opened: true, client }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ opened: false, status: res.statusCode!, body }));
    });
    ws.once('error', reject);
  }));
}

describe('onWebSocketConnect decides the upgrade', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 1, gatewayArgs: ['--upgrade-timeout', '1'] });
  const metrics = () => `http://${cluster.gatewayIp(0)}:9272/metrics`;

  it('refuses with the status a RefuseConnection carries, and the client never becomes a WebSocket', async () => {
    const watcher = await WsTestClient.open(cluster.gatewayUrl(0));
    await watcher.request('api', { method: 'joinGroup', args: [(await watcher.request<{ clientId: string }>('whoami')).clientId, 'watchers'] });
    const api = await cluster.api();
    const before = await api.getAllClientCount();

    const refused = await attempt(`${cluster.gatewayUrl(0)}?refuse=401&uid=intruder`);
    assert.deepEqual({ opened: refused.opened, status: refused.status, body: refused.body }, { opened: false, status: 401, body: 'refused by the test handler' });
    // The client existed for its onConnect/onWebSocketConnect, and is gone with an onClose.
    await watcher.next((m) => m.includes('"type":"closed"'));
    assert.equal(await api.isUidOnline('intruder'), false);
    assert.equal(await api.getAllClientCount(), before);
    assert.equal(await scrapeMetric(metrics(), 'gwc_gateway_connections_refused_total{reason="handler",role="gateway"}'), 1);
    watcher.close();
  });

  it('accepts when the callback returns: its uid binding, session and messages are in place when the client opens', async () => {
    const result = await attempt(`${cluster.gatewayUrl(0)}?uid=alice&greet=welcome`);
    assert.equal(result.opened, true);
    const client = result.client!;
    assert.equal(await client.next(), 'welcome', 'what onWebSocketConnect sent is delivered after the upgrade');
    const api = await cluster.api();
    assert.equal(await api.isUidOnline('alice'), true);
    const session = await client.request<{ upgrade: { url: string } }>('session.get');
    assert.equal(session.upgrade.url, '/?uid=alice&greet=welcome');
    client.close();
  });

  it('refuses with 500 when onWebSocketConnect throws, and 503 when it takes longer than --upgrade-timeout', async () => {
    const failed = await attempt(`${cluster.gatewayUrl(0)}?throw=1`);
    assert.deepEqual([failed.opened, failed.status], [false, 500]);
    await cluster.workers[0]!.waitForEvent('upgrade-handler-threw', {}, 5000);
    const slow = await attempt(`${cluster.gatewayUrl(0)}?delay=3000`);
    assert.deepEqual([slow.opened, slow.status], [false, 503]);
    assert.equal(await scrapeMetric(metrics(), 'gwc_gateway_connections_refused_total{reason="verdict-timeout",role="gateway"}'), 1);
    // The worker and gateway keep serving.
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('still here');
    assert.equal(await client.next(), 'still here');
    client.close();
  });

  it('counts a handler refusing with 503 as the handler\'s refusal, not as a timeout', async () => {
    const refusals = async () => ({
      handler: await scrapeMetric(metrics(), 'gwc_gateway_connections_refused_total{reason="handler",role="gateway"}'),
      timeout: await scrapeMetric(metrics(), 'gwc_gateway_connections_refused_total{reason="verdict-timeout",role="gateway"}'),
    });
    const before = await refusals();
    const refused = await attempt(`${cluster.gatewayUrl(0)}?refuse=503`);
    assert.deepEqual({ opened: refused.opened, status: refused.status, body: refused.body }, { opened: false, status: 503, body: 'refused by the test handler' });
    assert.deepEqual(await refusals(), { handler: before.handler + 1, timeout: before.timeout });
  });

  it('forgets an upgrade whose client left while it waited for the verdict', async () => {
    const api = await cluster.api();
    const before = await api.getAllClientCount();
    const accepted = await scrapeMetric(metrics(), 'gwc_gateway_connections_accepted_total');
    const ws = new WebSocket(`${cluster.gatewayUrl(0)}?delay=500&uid=leaver`);
    ws.on('error', () => {});
    await waitFor('the gateway to hold the upgrade', async () => (await scrapeMetric(metrics(), 'gwc_gateway_connections_accepted_total')) > accepted);
    ws.terminate();
    await cluster.gateways[0]!.waitForEvent('upgrade-abandoned', {}, 5000);
    assert.equal(await api.isUidOnline('leaver'), false);
    assert.equal(await api.getAllClientCount(), before);
  });
});
