/**
 * Query answers larger than a frame come whole, in pages: 2,000 sessions of 1.6 KB (3.3 MB) with a frame limit of
 * 1 MiB on every process, asked for by an API client, by the HTTP API and by a handler in a worker (whose event is
 * then acknowledged once, not redelivered); and at full size, one gateway holding up to 20,000 sessions of 1.6 KB
 * (over 30 MB) at the default frame limit of 16 MiB.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { openFileLimit } from '../../runtime/net/open-file-limit.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../runtime/wire/frame-codec.js';
import { scrapeMetric } from '../harness/metrics.js';
import { callApi, startApi } from '../harness/http-api.js';
import { CLIENT_PORT, clusterForSuite, TEST_SECRET } from '../harness/test-cluster.js';
import { TcpTestClient, WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const FRAME_LIMIT = 1024 * 1024;
const CLIENTS = 2000;
const blob = 's'.repeat(1600);

/** `make(0)` .. `make(count - 1)`, `size` at a time: what a test opens or stores by the thousand, without a flood. */
async function inBatches<T>(count: number, size: number, make: (n: number) => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let first = 0; first < count; first += size) {
    made.push(...(await Promise.all(Array.from({ length: Math.min(size, count - first) }, (_, k) => make(first + k)))));
  }
  return made;
}

describe('query answers larger than a frame', () => {
  const cluster = clusterForSuite({ env: { GWC_MAX_FRAME_BYTES: String(FRAME_LIMIT) } });

  it('come whole to an API client, the HTTP API and a worker\'s handler', async () => {
    const client = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, maxFrameBytes: FRAME_LIMIT, requestTimeoutMs: 15_000 });
    const sockets: WsTestClient[] = [];
    try {
      sockets.push(...(await inBatches(CLIENTS, 200, () => WsTestClient.open(cluster.gatewayUrl(0)))));
      const ids = await client.getAllClientIdList();
      assert.equal(ids.length, CLIENTS);
      await inBatches(ids.length, 200, (n) => client.setSession(ids[n]!, { n, blob }));

      const sessions = await client.getAllClientSessions();
      assert.equal(Object.keys(sessions).length, CLIENTS);
      assert.ok(JSON.stringify(sessions).length > 3 * FRAME_LIMIT, 'larger than three frames');
      assert.deepEqual(new Set(Object.values(sessions).map((s) => s!.n)).size, CLIENTS);
      assert.ok(Object.values(sessions).every((s) => s!.blob === blob));

      const api = await startApi(cluster, { env: { GWC_MAX_FRAME_BYTES: String(FRAME_LIMIT) } });
      assert.equal(Object.keys(await callApi<Record<string, unknown>>(api, 'getAllClientSessions')).length, CLIENTS);

      const asker = sockets[0]!;
      asker.send(JSON.stringify({ op: 'sessions.size', id: 'size' }));
      const answer = JSON.parse(await asker.next((m) => m.includes('"id":"size"'), 15_000)) as { result: { clients: number; bytes: number } };
      assert.equal(answer.result.clients, CLIENTS);
      assert.ok(answer.result.bytes > 3 * FRAME_LIMIT);
      assert.equal(await scrapeMetric(`http://${cluster.gatewayIp(0)}:9272/metrics`, 'gwc_gateway_events_redelivered_total'), 0, 'the worker kept its link');
    } finally {
      for (const socket of sockets) socket.close();
      client.close();
    }
  });
});

describe('query answers at full size', () => {
  // Raw TCP clients are the lightest to hold by the ten thousand. They stay silent, so no heartbeats: a slow run must
  // not see the first of them closed for missing pings before the query.
  const cluster = clusterForSuite({ protocol: 'text', gatewayArgs: ['--ping-interval', '0'] });

  it('20,000 sessions of 1.6 KB on one gateway (as many as the open-file limits here allow) come whole at the default frame limit', async () => {
    // One descriptor per client on both ends: the gateway keeps a reserve, this process needs a few of its own.
    const gatewayTakes = (await cluster.gateways[0]!.waitForEvent('ready')).maxConnections as number;
    const clients = Math.min(20_000, gatewayTakes, (openFileLimit() ?? 1024) - 200);
    const client = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, requestTimeoutMs: 60_000 });
    const sockets: TcpTestClient[] = [];
    try {
      sockets.push(...(await inBatches(clients, 500, () => TcpTestClient.open(cluster.gatewayIp(0), CLIENT_PORT, 'text'))));
      const ids = await waitFor(`${clients} clients listed`, async () => {
        const listed = await client.getAllClientIdList();
        return listed.length === clients ? listed : undefined;
      }, 60_000, 200);
      await inBatches(ids.length, 500, (n) => client.setSession(ids[n]!, { n, blob }));

      const sessions = await client.getAllClientSessions();
      assert.equal(Object.keys(sessions).length, clients);
      const bytes = JSON.stringify(sessions).length;
      assert.ok(bytes > DEFAULT_MAX_FRAME_BYTES, `${bytes} bytes of ${clients} sessions: not over one frame (the open-file limit here is too low for this test)`);
      assert.equal(new Set(Object.values(sessions).map((s) => s!.n)).size, clients);
      assert.ok(Object.values(sessions).every((s) => s!.blob === blob));
      console.log(`full-size query: ${clients} sessions, ${(bytes / 1048576).toFixed(1)} MiB of JSON, whole`);
    } finally {
      for (const socket of sockets) socket.close();
      client.close();
    }
  });
});
