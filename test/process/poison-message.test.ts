/**
 * One message that kills every worker it reaches (its handler exits the process) must not take the cluster down:
 * three workers, restarted as pods are when they exit, serve 50 clients sending steadily while one client sends such
 * a message. The gateway quarantines it after --max-event-deaths deaths and closes its client with 1011; every
 * other client's messages are handled, none lost, duplicates only as flagged redeliveries. An upgrade whose
 * onWebSocketConnect exits the worker is refused with 500 after as many deaths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { scrapeMetric } from '../harness/metrics.js';
import type { RoleProcess } from '../harness/role-process.js';
import { INTERNAL_PORT, TestCluster } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const WORKERS = 3;
const CLIENTS = 50;
const MESSAGES_EACH = 100;
const SEND_EVERY_MS = 20;
/** The poison client sends the poison as its message number POISON_AT, then goes on sending. */
const POISON_AT = 30;
/** The default of --max-event-deaths. */
const MAX_EVENT_DEATHS = 3;
const POISON_EXIT_CODE = 3;

interface Record {
  id: string;
  worker: string;
  result: { n: number; messageId: string; redelivery: boolean };
}

describe('a poison message (its handler exits the worker)', () => {
  const cluster = new TestCluster({ gateways: 1, workers: WORKERS });
  const metric = (name: string) => scrapeMetric(`http://${cluster.gatewayIp(0)}:9272/metrics`, name);
  /** Exits of workers, and whether dead ones are started again (as a pod's container is). */
  const exits: Array<{ worker: string; code: number | null }> = [];
  /** Cleared before the cluster is stopped, which must not start them again. */
  let restarting = true;
  const poisonDeaths = () => exits.filter((exit) => exit.code === POISON_EXIT_CODE).length;
  /** The deaths the gateway counted, once this process has seen as many worker exits since `since` (it may see them later). */
  async function exitsSeen(since: number, counted: unknown): Promise<number> {
    await waitFor(`${String(counted)} worker exits`, () => poisonDeaths() - since === counted);
    return counted as number;
  }

  before(async () => {
    await cluster.start();
    cluster.workers.forEach((worker, index) => restartOnExit(index, worker));
  });
  after(async () => {
    restarting = false;
    await cluster.stop();
  });

  /** Starts worker `index` again (same name) whenever it exits, as the kubelet restarts a pod's container. */
  function restartOnExit(index: number, worker: RoleProcess): void {
    worker.child.once('exit', (code) => {
      exits.push({ worker: worker.label, code });
      if (!restarting) return;
      const replacement = cluster.startWorker(index);
      cluster.workers[index] = replacement;
      restartOnExit(index, replacement);
    });
  }

  it(`is quarantined after at most ${MAX_EVENT_DEATHS} worker deaths; every other client's messages are handled`, async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => WsTestClient.open(cluster.gatewayUrl(0))));
    const poisonClient = clients[CLIENTS - 1]!;
    const { clientId: poisonClientId } = await poisonClient.request<{ clientId: string }>('whoami');

    // Every client sends MESSAGES_EACH messages, one every SEND_EVERY_MS; the poison client's POISON_AT-th is the poison.
    for (let n = 1; n <= MESSAGES_EACH; n++) {
      for (const client of clients) {
        if (client === poisonClient && n === POISON_AT) client.send(JSON.stringify({ op: 'exit', id: 'poison', code: POISON_EXIT_CODE }));
        else if (!client.closed) client.send(JSON.stringify({ op: 'record', id: `r${n}`, n }));
      }
      await new Promise((resolve) => setTimeout(resolve, SEND_EVERY_MS));
    }

    await poisonClient.waitClosed(30_000);
    assert.equal(poisonClient.closeCode, 1011, 'the poison\'s client is told with 1011');
    const innocents = clients.slice(0, -1);
    const handled = (client: WsTestClient) => new Set(records(client).map((r) => r.result.n)).size;
    await waitFor(`every innocent client's ${MESSAGES_EACH} messages handled`, () => innocents.every((c) => handled(c) === MESSAGES_EACH), 60_000, 100);

    const quarantined = await cluster.gateways[0]!.waitForEvent('event-quarantined', { clientId: poisonClientId });
    const deaths = await exitsSeen(0, quarantined.deaths);
    let duplicated = 0;
    let lost = 0;
    for (const client of innocents) {
      const replies = records(client);
      const byN = new Map<number, Record[]>();
      for (const reply of replies) byN.set(reply.result.n, [...(byN.get(reply.result.n) ?? []), reply]);
      lost += MESSAGES_EACH - byN.size;
      for (const [n, runs] of byN) {
        duplicated += runs.length - 1;
        assert.ok(runs.filter((run) => !run.result.redelivery).length <= 1, `message ${n} handled twice, the second not flagged as a redelivery`);
        assert.equal(new Set(runs.map((run) => run.result.messageId)).size, 1, 'a redelivery keeps its message id');
      }
      const firstSeen = [...new Set(replies.map((r) => r.result.n))];
      assert.deepEqual(firstSeen, Array.from({ length: MESSAGES_EACH }, (_, i) => i + 1), 'each client\'s messages handled in order');
    }
    const poisonHandled = records(poisonClient).map((r) => r.result.n);
    const redelivered = await metric('gwc_gateway_events_redelivered_total');
    console.log(
      `poison message: ${deaths} worker deaths before quarantine (--max-event-deaths ${MAX_EVENT_DEATHS}); ` +
        `${CLIENTS - 1} other clients: ${lost} of ${(CLIENTS - 1) * MESSAGES_EACH} messages lost, ${duplicated} handled twice (flagged redeliveries), ` +
        `${redelivered} redelivered; ` +
        `the poison's client: ${new Set(poisonHandled).size} of its ${POISON_AT - 1} earlier messages handled, none after`,
    );
    assert.equal(lost, 0);
    assert.ok(deaths >= 1 && deaths <= MAX_EVENT_DEATHS, `${deaths} deaths`);
    assert.ok(poisonHandled.every((n) => n < POISON_AT), 'nothing the poison\'s client sent after it was delivered');
    assert.equal(await metric('gwc_gateway_events_quarantined_total'), 1);
    assert.equal(quarantined.level, 'error');
    assert.match(String(quarantined.messageId), new RegExp(`^${cluster.gatewayIp(0).replaceAll('.', '\\.')}:${INTERNAL_PORT}/\\d+$`));

    // The workers serve again: all of them connected, and a new client answered.
    await cluster.waitForWorkersOnAllGateways(30_000);
    const fresh = await WsTestClient.open(cluster.gatewayUrl(0));
    assert.equal((await fresh.request<{ n: number }>('record', { n: 1 })).n, 1);
    for (const client of [...clients, fresh]) client.close();
  });

  it(`refuses with 500 an upgrade whose onWebSocketConnect exits the worker, after at most ${MAX_EVENT_DEATHS} deaths`, async () => {
    await cluster.waitForWorkersOnAllGateways(30_000);
    const before = poisonDeaths();
    await assert.rejects(WsTestClient.open(`${cluster.gatewayUrl(0)}?exit=${POISON_EXIT_CODE}`), /HTTP 500/);
    const quarantined = await cluster.gateways[0]!.waitForEvent('event-quarantined', { event: 'WebSocketConnect' });
    const deaths = await exitsSeen(before, quarantined.deaths);
    console.log(`poison upgrade: refused with 500 after ${deaths} worker deaths`);
    assert.ok(deaths >= 1 && deaths <= MAX_EVENT_DEATHS, `${deaths} deaths`);
    assert.equal(await metric('gwc_gateway_events_quarantined_total'), 2);
    await cluster.waitForWorkersOnAllGateways(30_000);
    const fresh = await WsTestClient.open(cluster.gatewayUrl(0));
    assert.equal((await fresh.request<{ n: number }>('record', { n: 1 })).n, 1);
    fresh.close();
  });
});

function records(client: WsTestClient): Record[] {
  return client.inbox.filter((m) => m.includes('"id":"r')).map((m) => JSON.parse(m) as Record);
}
