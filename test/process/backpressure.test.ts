import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCluster } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const MAX_SEND_BUFFER = 256 * 1024;
const MESSAGE = 'x'.repeat(16 * 1024);
const MESSAGES = 4000; // 64 MiB to a client that reads nothing



describe('a client that does not read (bounded send buffer)', () => {
  const cluster = new TestCluster({ gateways: 1, workers: 1, gatewayArgs: ['--max-send-buffer', String(MAX_SEND_BUFFER)] });
  let api: GatewayClient;

  before(async () => {
    await cluster.start();
    api = await cluster.api();
  });

  after(async () => {
    await cluster.stop();
  });

  const metric = (name: string) => scrapeMetric(`http://${cluster.gatewayIp(0)}:9272/metrics`, name);

  it('is closed with 1008 and counted, never holding more than the limit, while other clients are served', async () => {
    const gateway = cluster.gateways[0]!;
    const slow = await WsTestClient.open(cluster.gatewayUrl(0));
    const fast = await WsTestClient.open(cluster.gatewayUrl(0));
    const slowId = (await slow.request<{ clientId: string }>('whoami')).clientId;
    // The client stops reading: the kernel buffers fill, then the gateway's own buffer would grow.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    for (let i = 0; i < MESSAGES; i++) await api.sendToClient(slowId, MESSAGE);
    const closed = await gateway.waitForLog('client closed: send buffer full', { clientId: slowId }, 30_000);
    // What the gateway held for it never went past the limit (plus the message that would have crossed it).
    assert.ok(Number(closed.bufferedBytes) <= MAX_SEND_BUFFER, `${String(closed.bufferedBytes)} bytes buffered`);
    const sent = await metric('gwc_gateway_messages_sent_total');
    assert.ok(sent < MESSAGES / 4, `only what fitted was sent (${sent} of ${MESSAGES}); the rest was dropped, not queued`);

    assert.equal(await fast.request('whoami').then(() => 'served'), 'served');
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor('the slow client to see the close', () => slow.closed, 15_000);
    assert.equal(slow.closeCode, 1008);
    assert.equal(await metric('gwc_gateway_slow_clients_closed_total'), 1);
    assert.ok(gateway.alive);
  });
});
