import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricValue } from '../harness/metrics.js';
import { TestCluster, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const CLIENT_WINDOW = 8;

async function metrics(url: string): Promise<string> {
  return (await fetch(url)).text();
}

describe('flow control between clients, gateways and workers', () => {
  const cluster = clusterForSuite({
    gateways: 1,
    workers: 1,
    gatewayArgs: ['--client-window', String(CLIENT_WINDOW), '--worker-window', '32', '--max-send-buffer', String(64 * 1024 * 1024)],
  });

  it('a slow worker slows its client down: events wait unread at the client, not in gateway or worker memory', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const padding = 'x'.repeat(16 * 1024);
    const count = 600;
    // 600 x 16 KiB as fast as the socket takes them; the worker needs ~5 ms for each.
    for (let n = 1; n <= count; n++) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n, ms: 5, padding }));

    const peaks = { unacknowledged: 0, pending: 0, workerInFlight: 0 };
    const gatewayUrl = `http://${cluster.gatewayIp(0)}:9272/metrics`;
    const workerUrl = `http://${cluster.ip(20)}:9300/metrics`;
    const received: number[] = [];
    await waitFor(`${count} replies`, async () => {
      const [gateway, worker] = await Promise.all([metrics(gatewayUrl), metrics(workerUrl)]);
      peaks.unacknowledged = Math.max(peaks.unacknowledged, metricValue(gateway, 'gwc_gateway_unacknowledged_events'));
      peaks.pending = Math.max(peaks.pending, metricValue(gateway, 'gwc_gateway_pending_events'));
      peaks.workerInFlight = Math.max(peaks.workerInFlight, metricValue(worker, 'gwc_worker_events_in_flight'));
      for (let message = client.inbox.shift(); message !== undefined; message = client.inbox.shift()) {
        received.push((JSON.parse(message) as { result: { n: number } }).result.n);
      }
      return received.length >= count;
    }, 60_000, 20);

    assert.deepEqual(received, Array.from({ length: count }, (_, i) => i + 1), 'every message handled once, in order');
    assert.ok(peaks.unacknowledged <= CLIENT_WINDOW, `gateway held ${peaks.unacknowledged} unacknowledged events (window ${CLIENT_WINDOW})`);
    assert.ok(peaks.workerInFlight <= CLIENT_WINDOW, `worker held ${peaks.workerInFlight} events`);
    // What the gateway holds is bounded by one socket read (64 KiB = 4 of these messages) per paused client.
    assert.ok(peaks.pending <= 16, `gateway held ${peaks.pending} waiting events`);
    assert.ok(peaks.unacknowledged > 0, 'the sampling saw the flood');
    client.close();
  });

  it('a gateway that does not keep up slows down senders that await the Gateway API', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = await client.request<{ clientId: string }>('whoami');
    const api = await cluster.api();
    assert.equal(await api.isOnline(clientId), true, 'the API client is connected to the gateway');
    const message = 'y'.repeat(64 * 1024);
    const total = 200; // 12.5 MiB: more than the kernel's socket buffers hold between two stopped processes
    const gateway = cluster.gateways[0]!;

    process.kill(gateway.pid, 'SIGSTOP');
    let resolved = 0;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        await api.sendToClient(clientId, message);
        resolved++;
      }
    })();
    try {
      let last = -1;
      let unchanged = 0;
      await waitFor('the sender to stall', () => {
        unchanged = resolved === last ? unchanged + 1 : 0;
        last = resolved;
        return unchanged >= 10;
      }, 10_000, 50);
      assert.ok(resolved > 0 && resolved < total, `${resolved} of ${total} sends resolved while the gateway was stopped`);
    } finally {
      process.kill(gateway.pid, 'SIGCONT');
    }
    await sending;
    await waitFor(`${total} messages at the client`, () => client.inbox.length >= total, 30_000);
    assert.equal(client.inbox.length, total);
    client.close();
  });
});
