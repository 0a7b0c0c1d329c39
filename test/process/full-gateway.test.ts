/**
 * A full gateway stays healthy: with no --max-connections, the limit comes from the open-file limit with room kept
 * for internal links and health checks; past it new clients get HTTP 503 while /healthz and the clients already
 * connected are served. Half-open connections are closed after --handshake-timeout.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { reservedDescriptors } from '../../runtime/gateway/connection-limits.js';
import { CLIENT_PORT, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';

const FILE_LIMIT = 400;

/** Opens a raw TCP connection, writes `request` (if any) and resolves with what the server sent and when it closed. */
async function halfOpen(host: string, request: string): Promise<{ answer: string; closedAfterMs: number }> {
  const socket = connect({ host, port: CLIENT_PORT });
  const started = Date.now();
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.once('connect', () => request && socket.write(request));
  await withTimeout('the gateway to close the half-open connection', new Promise((resolve) => socket.once('close', resolve)), 15_000);
  return { answer, closedAfterMs: Date.now() - started };
}

describe(`a gateway with an open-file limit of ${FILE_LIMIT} and no --max-connections`, () => {
  const cluster = clusterForSuite({ gatewayFileLimit: FILE_LIMIT, gatewayArgs: ['--handshake-timeout', '1'] });
  const clients: WsTestClient[] = [];

  it('takes clients up to the limit less a reserve, refuses the next with 503, and still answers /healthz', async () => {
    const ready = await cluster.gateways[0]!.waitForEvent('ready');
    const limit = ready.maxConnections as number;
    assert.equal(limit, FILE_LIMIT - reservedDescriptors(FILE_LIMIT));
    while (clients.length < limit) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, limit - clients.length) }, () => WsTestClient.open(cluster.gatewayUrl(0))));
      clients.push(...batch);
    }
    await assert.rejects(WsTestClient.open(cluster.gatewayUrl(0)), /HTTP 503/);
    const health = await fetch(`http://${cluster.gatewayIp(0)}:9272/healthz`);
    assert.equal(health.status, 200, '/healthz answers at the limit');
    const metrics = await (await fetch(`http://${cluster.gatewayIp(0)}:9272/metrics`)).text();
    assert.match(metrics, /gwc_gateway_connections_refused_total\{reason="max-connections",role="gateway"\} [1-9]/);
    const first = clients[0]!;
    first.send('still served');
    assert.equal(await first.next((m) => m === 'still served', 5000), 'still served');
    console.log(`full gateway: ${limit} clients at an open-file limit of ${FILE_LIMIT}; the next got 503; /healthz 200`);
  });

  it('one client leaving makes room for one more', async () => {
    clients.pop()!.close();
    const again = await waitFor('a new client to be accepted', async () => {
      try {
        return await WsTestClient.open(cluster.gatewayUrl(0));
      } catch {
        return undefined;
      }
    }, 10_000, 100);
    clients.push(again);
    for (const client of clients) client.close();
    await waitFor('every client gone', async () => {
      const metrics = await (await fetch(`http://${cluster.gatewayIp(0)}:9272/metrics`)).text();
      return /^gwc_gateway_connections\{[^}]*\} 0$/m.test(metrics);
    }, 10_000, 100);
  });

  it('closes a connection that sends nothing, and one that stops half-way through its upgrade, after --handshake-timeout', async () => {
    const silent = await halfOpen(cluster.gatewayIp(0), '');
    const partial = await halfOpen(cluster.gatewayIp(0), 'GET / HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
    for (const [what, result] of [['silent', silent], ['half an upgrade', partial]] as const) {
      assert.ok(result.closedAfterMs >= 900 && result.closedAfterMs < 3000, `${what}: closed after ${result.closedAfterMs} ms`);
      assert.match(result.answer, /^HTTP\/1\.1 408 /, `${what}: answered 408`);
    }
  });
});
