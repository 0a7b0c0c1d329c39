/**
 * Query answers larger than a frame come whole, in pages: 2,000 sessions of 1.6 KB (3.3 MB) with a frame limit of
 * 1 MiB on every process, asked for by an API client, by the HTTP API and by a handler in a worker (whose event is
 * then acknowledged once, not redelivered); and at full size, one gateway holding up to 20,000 sessions of 1.6 KB
 * (over 30 MB) at the default frame limit of 16 MiB.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { GatewayClient } from '../../runtime/client/gateway-client.js';
import { openFileLimit } from '../../runtime/config/open-file-limit.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../runtime/wire/frame-codec.js';
import { scrapeMetric } from '../harness/metrics.js';
import { callApi, startApi } from '../harness/http-api.js';
import { CLIENT_PORT, clusterForSuite, TEST_SECRET } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const FRAME_LIMIT = 1024 * 1024;
const CLIENTS = 2000;
const blob = 's'.repeat(1600);

describe('query answers larger than a frame', () => {
  const cluster = clusterForSuite({ subnet: 44, env: { GWC_MAX_FRAME_BYTES: String(FRAME_LIMIT) } });

  it('come whole to an API client, the HTTP API and a worker\'s handler', async () => {
    const client = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, maxFrameBytes: FRAME_LIMIT, requestTimeoutMs: 15_000 });
    const sockets: WsTestClient[] = [];
    try {
      for (let i = 0; i < CLIENTS; i += 200) sockets.push(...(await Promise.all(Array.from({ length: 200 }, () => WsTestClient.open(cluster.gatewayUrl(0))))));
      const ids = await client.getAllClientIdList();
      assert.equal(ids.length, CLIENTS);
      for (let i = 0; i < ids.length; i += 200) await Promise.all(ids.slice(i, i + 200).map((id, k) => client.setSession(id, { n: i + k, blob })));

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

/** Raw TCP (text protocol) clients: the lightest a test process can hold tens of thousands of. */
function openTcpClients(host: string, count: number): Promise<Socket[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve, reject) => {
    const socket = connect(CLIENT_PORT, host, () => resolve(socket));
    socket.once('error', reject);
    socket.resume();
  })));
}

describe('query answers at full size', () => {
  const cluster = clusterForSuite({ subnet: 45, protocol: 'text' });

  it('20,000 sessions of 1.6 KB on one gateway (as many as the open-file limits here allow) come whole at the default frame limit', async () => {
    // One descriptor per client on both ends: the gateway keeps a reserve, this process needs a few of its own.
    const gatewayTakes = (await cluster.gateways[0]!.waitForLog('ready')).maxConnections as number;
    const clients = Math.min(20_000, gatewayTakes, (openFileLimit() ?? 1024) - 200);
    const client = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, requestTimeoutMs: 60_000 });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < clients; i += 500) sockets.push(...(await openTcpClients(cluster.gatewayIp(0), Math.min(500, clients - i))));
      const ids = await waitFor(`${clients} clients listed`, async () => {
        const listed = await client.getAllClientIdList();
        return listed.length === clients ? listed : undefined;
      }, 60_000, 200);
      for (let i = 0; i < ids.length; i += 500) await Promise.all(ids.slice(i, i + 500).map((id, k) => client.setSession(id, { n: i + k, blob })));

      const sessions = await client.getAllClientSessions();
      assert.equal(Object.keys(sessions).length, clients);
      const bytes = JSON.stringify(sessions).length;
      assert.ok(bytes > DEFAULT_MAX_FRAME_BYTES, `${bytes} bytes of ${clients} sessions: not over one frame (the open-file limit here is too low for this test)`);
      assert.equal(new Set(Object.values(sessions).map((s) => s!.n)).size, clients);
      assert.ok(Object.values(sessions).every((s) => s!.blob === blob));
      console.log(`full-size query: ${clients} sessions, ${(bytes / 1048576).toFixed(1)} MiB of JSON, whole`);
    } finally {
      for (const socket of sockets) socket.destroy();
      client.close();
    }
  });
});
