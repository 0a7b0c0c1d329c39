/**
 * A gateway client's one way out, in-process: Client.close(disconnect) carries out each row of disconnects.ts (what
 * the client is told, what becomes of its connection, the metric and the log line), the per-client limits close
 * through it, and UpgradeVerdicts ends a client by the cause of its verdict, not by the status number.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE_GRACE_MS, DISCONNECTS, type Disconnect } from '../../runtime/gateway/disconnects.js';
import { UpgradeVerdicts } from '../../runtime/gateway/upgrade-verdicts.js';
import { FakeClientTransport, testClient, testClientContext, type TestClientContext } from '../fixtures/gateway-parts.js';
import { countInHeap } from '../harness/heap-snapshot.js';
import { metricValue } from '../harness/metrics.js';

function setup(limits: Parameters<typeof testClientContext>[0] = {}) {
  const context = testClientContext(limits);
  const transport = new FakeClientTransport();
  const client = testClient('c1', transport, context);
  return { context, transport, client };
}

async function refused(context: TestClientContext, reason: string): Promise<number> {
  const value = metricValue(await context.registry.metrics(), `gwc_gateway_connections_refused_total{reason="${reason}"}`);
  return Number.isNaN(value) ? 0 : value;
}

async function slowClosed(context: TestClientContext): Promise<number> {
  return metricValue(await context.registry.metrics(), 'gwc_gateway_slow_clients_closed_total');
}

describe('Client.close(disconnect): each row of the table', () => {
  for (const [name, row] of Object.entries(DISCONNECTS) as Array<[string, Disconnect]>) {
    it(`${name}: ${row.ending}${'frame' in row ? ` with ${row.frame.code}` : ''}${row.counted ? `, counted as ${row.counted}` : ''}`, async () => {
      const { context, transport, client } = setup();
      client.close(row, { detail: 'x' });
      if (row.ending === 'read-on' || row.ending === 'stop-reading') assert.deepEqual(transport.closedWith, row.frame);
      else assert.equal(transport.closedWith, undefined, 'no close frame');
      assert.equal(transport.destroyed, row.ending === 'drop');
      assert.deepEqual(context.leftClients, row.ending === 'upgrade-refused' ? [client] : [], 'a refused upgrade ends the client at once');
      assert.equal(client.admit(), row.ending === 'read-on' || row.ending === 'drop', 'read from afterwards, unless it stops reading or has left');
      if (row.counted === 'slow-client') assert.equal(await slowClosed(context), 1);
      else if (row.counted) assert.equal(await refused(context, row.counted), 1);
      const logged = context.logs.filter((record) => record.clientId === 'c1');
      assert.deepEqual(logged.map((record) => [record.level, record.msg, record.detail]), row.log ? [[row.log.level, row.log.message, 'x']] : []);
    });
  }

  it('does nothing to a client that has left, and stops a client reading once', async () => {
    const { context, transport, client } = setup();
    client.close(DISCONNECTS.rateLimit);
    client.close(DISCONNECTS.slowClient);
    assert.deepEqual(transport.closedWith, DISCONNECTS.rateLimit.frame);
    assert.equal(await slowClosed(context), 0, 'the second stop-reading disconnect is not counted');
    client.left();
    client.left();
    client.close(DISCONNECTS.heartbeatTimeout);
    assert.equal(transport.destroyed, false);
    assert.equal(await refused(context, 'heartbeat-timeout'), 0);
    assert.deepEqual(context.leftClients, [client], 'left once');
  });

  it('drops a client that has not taken its close frame CLOSE_GRACE_MS after a stop-reading close', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { transport, client } = setup();
    client.close(DISCONNECTS.slowClient);
    t.mock.timers.tick(CLOSE_GRACE_MS - 1);
    assert.equal(transport.destroyed, false);
    t.mock.timers.tick(1);
    assert.equal(transport.destroyed, true);
  });
});

describe('Client: the per-client limits close through the table', () => {
  it('closes a client past its message rate with 1008, once, logging the limit', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 5000 });
    const { context, transport, client } = setup({ maxMessagesPerSecond: 3 });
    assert.deepEqual([client.admit(), client.admit(), client.admit()], [true, true, true]);
    assert.equal(client.admit(), false);
    assert.deepEqual(transport.closedWith, DISCONNECTS.rateLimit.frame);
    assert.equal(client.admit(), false);
    assert.equal(await refused(context, 'rate-limit'), 1);
    assert.deepEqual(context.logs.map((r) => [r.msg, r.limit]), [['client closed: message rate limit', 3]]);
  });

  it('counts the rate per second', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 5000 });
    const { client } = setup({ maxMessagesPerSecond: 2 });
    assert.deepEqual([client.admit(), client.admit()], [true, true]);
    t.mock.timers.tick(1000);
    assert.deepEqual([client.admit(), client.admit()], [true, true]);
  });

  it('a window is one second, also across a wrap of the rate clock (2^30 ms) and from the first message on', (t) => {
    const wrap = 2 ** 30 * 1700; // 2023-11: Date.now() as it is these years, at a multiple of 2^30
    for (const start of [wrap - 400, wrap + 100]) {
      t.mock.timers.enable({ apis: ['Date'], now: start });
      const { client, transport } = setup({ maxMessagesPerSecond: 1 });
      assert.equal(client.admit(), true);
      t.mock.timers.tick(950);
      assert.equal(client.admit(), false, `${start - wrap} ms from a wrap: 950 ms later is the same window`);
      assert.deepEqual(transport.closedWith, DISCONNECTS.rateLimit.frame);
      t.mock.timers.reset();
    }
  });

  it('a client that sent a message holds no boxed number (its window start is a small integer): 16 bytes less per client', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 2 ** 30 * 1700 + 12_345 });
    const context = testClientContext({ maxMessagesPerSecond: 10 });
    const before = await countInHeap('number', 'heap number');
    const clients = Array.from({ length: 1000 }, (_, i) => testClient(`c${i}`, new FakeClientTransport(), context));
    for (const client of clients) client.admit();
    const added = (await countInHeap('number', 'heap number')) - before;
    assert.ok(added < 100, `${added} heap numbers more for 1,000 clients`);
    assert.equal(clients.length, 1000);
  });

  it('closes a client that leaves more than maxSendBuffer unread, sending it nothing more', async () => {
    const { context, transport, client } = setup({ maxSendBuffer: 100 });
    transport.bufferedBytes = 90;
    client.send(Buffer.alloc(10), false);
    client.send(Buffer.alloc(1), false);
    assert.equal(transport.sent.length, 1, 'at the limit still sent; past it not');
    assert.deepEqual(transport.closedWith, DISCONNECTS.slowClient.frame);
    client.send(Buffer.alloc(0), false);
    assert.equal(transport.sent.length, 1);
    assert.equal(await slowClosed(context), 1);
    assert.deepEqual(context.logs.map((r) => [r.msg, r.bufferedBytes, r.maxSendBuffer]), [['client closed: send buffer full', 100, 100]]);
  });

  it("answers a client's pings, and closes one that pings without reading past maxSendBuffer as a slow client", async () => {
    const { context, transport, client } = setup({ maxSendBuffer: 100 });
    client.answerPing(Buffer.from('a'));
    assert.deepEqual(transport.pongs, [Buffer.from('a')]);
    transport.bufferedBytes = 100;
    client.answerPing(Buffer.from('b'));
    assert.deepEqual(transport.pongs, [Buffer.from('a')], 'no pong past the limit');
    assert.deepEqual(transport.closedWith, DISCONNECTS.slowClient.frame);
    assert.equal(await slowClosed(context), 1);
    client.answerPing(Buffer.alloc(0));
    assert.equal(transport.pongs.length, 1, 'nothing answered once closed');
  });

  it('drops a client silent for pingNotResponseLimit heartbeats, but never one held back by its worker', async () => {
    const { context, transport, client } = setup({ pingNotResponseLimit: 2 });
    client.heartbeat();
    client.alive();
    client.heartbeat();
    client.heartbeat();
    assert.deepEqual([transport.pings, transport.destroyed], [3, false], 'the pong reset its silence');
    client.pauseReading();
    for (let i = 0; i < 5; i++) client.heartbeat();
    assert.deepEqual([transport.pings, transport.destroyed], [3, false], 'paused: neither pinged nor dropped');
    client.resumeReading();
    client.heartbeat();
    assert.equal(transport.destroyed, true);
    assert.equal(await refused(context, 'heartbeat-timeout'), 1);
  });
});

describe('UpgradeVerdicts: a refusal counted by its cause', () => {
  function waiting(timeoutMs = 60_000) {
    const context = testClientContext();
    const client = testClient('c1', new FakeClientTransport(), context);
    const verdicts = new UpgradeVerdicts(timeoutMs);
    const check = verdicts.wait(client, 7);
    return { context, client, verdicts, check };
  }

  it('counts a handler refusing with 503 as the handler\'s, not as a timeout', async () => {
    const { context, client, verdicts, check } = waiting();
    verdicts.received({ sequence: 7, status: 503, reason: 'busy' });
    assert.deepEqual(await check.verdict, { status: 503, reason: 'busy' });
    assert.deepEqual([await refused(context, 'handler'), await refused(context, 'verdict-timeout')], [1, 0]);
    assert.deepEqual(context.leftClients, [client]);
    assert.deepEqual(context.logs.map((r) => [r.msg, r.status, r.reason]), [['WebSocket upgrade refused', 503, 'busy']]);
  });

  it('refuses with 503 and counts a timeout when no verdict comes in time', async () => {
    const { context, check } = waiting(5);
    assert.deepEqual(await check.verdict, { status: 503, reason: 'no verdict from a worker in time' });
    assert.deepEqual([await refused(context, 'handler'), await refused(context, 'verdict-timeout')], [0, 1]);
  });

  it('completes an accepted upgrade, and drops a verdict that comes late', async () => {
    const { context, verdicts, check } = waiting();
    verdicts.received({ sequence: 7 });
    verdicts.received({ sequence: 7, status: 401 });
    assert.deepEqual(await check.verdict, { status: 0, reason: undefined });
    assert.deepEqual(context.leftClients, []);
  });

  it('turns a status that is no refusal into 403', async () => {
    const { verdicts, check } = waiting();
    verdicts.received({ sequence: 7, status: 200 });
    assert.equal((await check.verdict).status, 403);
  });

  it('refuses with 500 an upgrade whose event was quarantined, and says whether one waited', async () => {
    const { context, client, verdicts, check } = waiting();
    assert.equal(verdicts.quarantined(client), true);
    assert.equal(verdicts.quarantined(client), false);
    assert.deepEqual(await check.verdict, { status: 500, reason: 'the connection could not be handled' });
    assert.equal(await refused(context, 'handler'), 1);
  });

  it('forgets an abandoned upgrade at once: logged, not counted', async () => {
    const { context, client, check } = waiting();
    check.abandon();
    check.abandon();
    assert.equal((await check.verdict).status, 503);
    assert.deepEqual(context.leftClients, [client]);
    assert.deepEqual(context.logs.map((r) => r.msg), ['client left before its upgrade was decided']);
    assert.equal(await refused(context, 'handler'), 0);
  });
});
