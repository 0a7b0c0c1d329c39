import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import { TestCluster, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

interface Recorded {
  n: number;
  messageId: string;
  redelivery: boolean;
}
interface Reply<T> {
  id: string;
  worker: string;
  result: T;
}

/** Replies to `record` requests, in the order they arrived, until `count` distinct n have come in. */
async function collectRecords(client: WsTestClient, count: number, timeoutMs = 15_000): Promise<Array<Reply<Recorded>>> {
  const replies: Array<Reply<Recorded>> = [];
  const seen = new Set<number>();
  while (seen.size < count) {
    const reply = JSON.parse(await client.next((m) => m.includes('"id":"r'), timeoutMs)) as Reply<Recorded>;
    replies.push(reply);
    seen.add(reply.result.n);
  }
  return replies;
}

async function whoami(client: WsTestClient, id: string): Promise<string> {
  client.send(JSON.stringify({ op: 'whoami', id }));
  return (JSON.parse(await client.next((m) => m.includes(`"id":"${id}"`))) as Reply<unknown>).worker;
}

describe('no lost client messages when a worker dies', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 2 });
  const gatewayMetrics = () => `http://${cluster.gatewayIp(0)}:9272/metrics`;

  it('redelivers what a SIGKILLed worker had not acknowledged to another worker, flagged, with the same ids, in order', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const victimName = await whoami(client, 'w1');
    const victim = cluster.workers.find((w) => w.label === victimName)!;

    // n=1 replies at once and then holds the worker's queue for this client; n=2..20 wait behind it, unacknowledged.
    client.send(JSON.stringify({ op: 'record', id: 'r1', n: 1, replyFirst: true, holdOnce: true, ms: 30_000 }));
    for (let n = 2; n <= 20; n++) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n }));
    const firstTry = JSON.parse(await client.next((m) => m.includes('"id":"r1"'))) as Reply<Recorded>;
    assert.equal(firstTry.result.redelivery, false);
    await waitFor('20 events unacknowledged at the gateway', async () => (await scrapeMetric(gatewayMetrics(), 'gwc_gateway_unacknowledged_events')) === 20);

    await victim.stop('SIGKILL');
    // Until the gateway has read the link's end, what the client sends may still go to the dead worker, and so be a
    // redelivery too: send once the gateway counts one worker.
    await waitFor('the gateway to see the worker gone', async () => (await scrapeMetric(gatewayMetrics(), 'gwc_gateway_workers')) === 1);
    // Sent after the kill: must come after the redelivered ones.
    for (let n = 21; n <= 25; n++) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n }));

    const replies = await collectRecords(client, 25);
    assert.ok(replies.every((r) => r.worker !== victimName), 'everything after the kill is handled by the survivor');
    assert.deepEqual(replies.map((r) => r.result.n), Array.from({ length: 25 }, (_, i) => i + 1), 'each once, in the order sent');
    assert.deepEqual(replies.filter((r) => r.result.redelivery).map((r) => r.result.n), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(replies[0]!.result.messageId, firstTry.result.messageId, 'a redelivery keeps its message id');
    assert.equal(new Set(replies.map((r) => r.result.messageId)).size, 25);
    assert.equal(await scrapeMetric(gatewayMetrics(), 'gwc_gateway_events_redelivered_total'), 20);
    await cluster.gateways[0]!.waitForEvent('worker-disconnected', { redelivered: 20 }, 5000);
    client.close();
  });

  it('keeps a client on a draining worker until it has finished that client\'s events, so order holds', async () => {
    cluster.workers.push(cluster.startWorker(2));
    await cluster.waitForWorkersOnAllGateways();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const stoppingName = await whoami(client, 'w2');
    const stopping = cluster.workers.find((w) => w.label === stoppingName)!;

    client.send(JSON.stringify({ op: 'record', id: 'r1', n: 1, ms: 1500 }));
    for (let n = 2; n <= 5; n++) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n }));
    await waitFor('5 events unacknowledged at the gateway', async () => (await scrapeMetric(gatewayMetrics(), 'gwc_gateway_unacknowledged_events')) === 5);
    const stopped = stopping.stop('SIGTERM', 15_000);
    await cluster.gateways[0]!.waitForEvent('worker-draining', { worker: stoppingName });
    // Sent while the draining worker still runs n=1: they must wait for n=1..5, then go to the other worker.
    for (let n = 6; n <= 10; n++) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n }));

    const replies = await collectRecords(client, 10);
    assert.deepEqual(replies.map((r) => r.result.n), Array.from({ length: 10 }, (_, i) => i + 1));
    assert.deepEqual(replies.map((r) => r.worker), [...Array(5).fill(stoppingName), ...Array(5).fill(replies[5]!.worker)]);
    assert.notEqual(replies[5]!.worker, stoppingName);
    assert.ok(replies.every((r) => !r.result.redelivery), 'a drain redelivers nothing');
    await stopped;
    assert.equal(stopping.exit?.code, 0);
    client.close();
  });
});
