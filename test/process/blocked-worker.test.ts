/**
 * A worker whose handler blocks its event loop past the gateway's heartbeat timeout: the gateway takes it for gone
 * and sends its unacknowledged events to the other worker. When the blocked one wakes, it must not go on with them,
 * or two workers would handle one client's events at once (and every side effect would happen twice).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

interface Reply {
  id: string;
  worker: string;
}

describe('a worker blocked past the heartbeat', () => {
  // Heartbeats every 0.2 s: a peer silent for 0.6 s is taken for gone.
  const cluster = clusterForSuite({ workers: 2, env: { GWC_HEARTBEAT_INTERVAL: '0.2' } });

  it('drops the events its gateway sent on to the other worker, and handles none of them', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const replies: Reply[] = [];
    client.ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{')) replies.push(JSON.parse(text) as Reply);
    });
    client.send(JSON.stringify({ op: 'whoami', id: 'who' }));
    const blockedName = (await waitFor('whoami', () => replies.find((r) => r.id === 'who'))).worker;
    const index = cluster.workers.findIndex((worker) => worker.label === blockedName);
    const blocked = cluster.workers[index]!;
    const metrics = `http://${cluster.ip(20 + index)}:9300/metrics`;
    const handledBefore = await scrapeMetric(metrics, 'gwc_worker_events_handled_total');

    client.send(JSON.stringify({ op: 'block', id: 'block', ms: 1500 }));
    for (let n = 1; n <= 5; n++) client.send(JSON.stringify({ op: 'count', id: `c${n}` }));

    await waitFor('every count answered', () => [1, 2, 3, 4, 5].every((n) => replies.some((r) => r.id === `c${n}`)), 10_000);
    const lost = await blocked.waitForEvent('gateway-lost', { gateway: `${cluster.gatewayIp(0)}:2900` }, 10_000);
    const counts = replies.filter((r) => /^c\d$/.test(r.id));
    assert.deepEqual(counts.map((r) => r.id), ['c1', 'c2', 'c3', 'c4', 'c5'], 'each once, in order');
    assert.ok(counts.every((r) => r.worker !== blockedName), `all from the other worker: ${JSON.stringify(counts)}`);
    assert.ok((await scrapeMetric(metrics, 'gwc_worker_events_handled_total')) - handledBefore <= 1, 'the blocked worker finished its one callback, no more');
    assert.equal(await scrapeMetric(metrics, 'gwc_worker_events_dropped_total'), lost.dropped, 'what it dropped is counted');
    client.close();
  });
});
