import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCluster, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

interface Reply {
  id: string;
  worker: string;
  result: unknown;
}

describe('a worker stopped with SIGTERM drains', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 2 });

  it('finishes the events it has (its handlers still reach the gateways), takes no new ones, and exits 0', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const first = JSON.parse(await (client.send(JSON.stringify({ op: 'whoami', id: 'w' })), client.next((m) => m.includes('"id":"w"')))) as Reply;
    const stopping = cluster.workers.find((w) => w.label === first.worker)!;
    const other = cluster.workers.find((w) => w !== stopping)!;

    // A slow event, then three more queued behind it on the same worker (one client's events run in order).
    client.send(JSON.stringify({ op: 'slow', id: 'slow', ms: 1500 }));
    for (let i = 0; i < 3; i++) client.send(JSON.stringify({ op: 'api', id: `q${i}`, method: 'getAllClientCount', args: [] }));
    const workerIp = cluster.ip(20 + cluster.workers.indexOf(stopping));
    await waitFor('all four events at the worker', async () => {
      return (await scrapeMetric(`http://${workerIp}:9300/metrics`, 'gwc_worker_events_in_flight')) === 4;
    }, 5000);
    const stopped = stopping.stop('SIGTERM', 15_000);
    await stopping.waitForEvent('drained', {}, 5000);

    const replies = [] as Reply[];
    for (const id of ['slow', 'q0', 'q1', 'q2']) replies.push(JSON.parse(await client.next((m) => m.includes(`"id":"${id}"`), 10_000)) as Reply);
    assert.deepEqual(replies.map((r) => r.worker), Array(4).fill(stopping.label), 'the draining worker finished its own events');
    assert.deepEqual(replies.slice(1).map((r) => r.result), [1, 1, 1], 'its Gateway API calls still worked');

    // After the drain, the client's events go to the other worker, even before the first has exited.
    const after = JSON.parse(await (client.send(JSON.stringify({ op: 'whoami', id: 'after' })), client.next((m) => m.includes('"id":"after"'), 10_000))) as Reply;
    assert.equal(after.worker, other.label);
    await stopped;
    assert.equal(stopping.exit?.code, 0);
    await cluster.gateways[0]!.waitForEvent('worker-draining', {}, 5000);
    client.close();
  });
});
