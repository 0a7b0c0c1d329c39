import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_SESSION_DEPTH, SESSION_TOO_DEEP } from '../../runtime/wire/session-depth.js';
import { deepSession } from '../harness/deep-json.js';
import type { Session } from '../../runtime/gateway-api/gateway-api.js';
import { GatewayCommandError } from '../../runtime/gateway-api/gateway-errors.js';
import { ErrorCode } from '../../runtime/wire/types.js';
import { scrapeMetric } from '../harness/metrics.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

interface Reply<T> {
  id: string;
  worker: string;
  result: T;
}

async function request<T>(client: WsTestClient, body: Record<string, unknown>): Promise<Reply<T>> {
  client.send(JSON.stringify(body));
  return JSON.parse(await client.next((m) => m.includes(`"id":"${String(body.id)}"`))) as Reply<T>;
}

/** Sends `count` messages in one burst, ids c<from>..; answers with what each callback saw, in the order they came. */
async function countBurst(client: WsTestClient, from: number, count: number, ms = 0): Promise<number[]> {
  for (let n = from; n < from + count; n++) client.send(JSON.stringify({ op: 'count', id: `c${n}`, ms }));
  const seen: number[] = [];
  for (let n = from; n < from + count; n++) {
    seen.push((JSON.parse(await client.next((m) => m.includes(`"id":"c${n}"`))) as Reply<number>).result);
  }
  return seen;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('sessions never go stale', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 2 });
  const gatewayMetrics = () => `http://${cluster.gatewayIp(0)}:9272/metrics`;

  it('a burst of messages counts 1..N: each callback sees the session the one before it left', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    assert.deepEqual(await countBurst(client, 1, 40), range(1, 40));
    // Slow callbacks: all 20 wait at the worker at once, each sent with the session as it was when it left.
    assert.deepEqual(await countBurst(client, 41, 20, 5), range(41, 60));
    client.close();
  });

  it('a session written through the API between two callbacks is what the next one sees, though its event left before', async () => {
    const api = await cluster.api();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = (await request<{ clientId: string }>(client, { op: 'whoami', id: 'who' })).result;
    assert.deepEqual(await countBurst(client, 1, 3), [1, 2, 3]);

    // The first callback holds this client's queue for 2 s; five counts wait behind it at the worker, carrying seen: 3.
    client.send(JSON.stringify({ op: 'record', id: 'held', n: 1, ms: 2000 }));
    for (let n = 4; n <= 8; n++) client.send(JSON.stringify({ op: 'count', id: `c${n}` }));
    await waitFor('6 events unacknowledged', async () => (await scrapeMetric(gatewayMetrics(), 'gwc_gateway_unacknowledged_events')) === 6);
    await api.setSession(clientId, { seen: 100, by: 'api' });
    assert.equal(await scrapeMetric(gatewayMetrics(), 'gwc_gateway_unacknowledged_events'), 6, 'written while the events waited at the worker');

    const seen: number[] = [];
    for (let n = 4; n <= 8; n++) seen.push((JSON.parse(await client.next((m) => m.includes(`"id":"c${n}"`))) as Reply<number>).result);
    assert.deepEqual(seen, [101, 102, 103, 104, 105]);
    assert.deepEqual(await api.getSession(clientId), { seen: 105, by: 'api' });

    // And an API write that lands while nothing is in flight is what the next event carries.
    await api.updateSession(clientId, { seen: 0 });
    assert.deepEqual(await countBurst(client, 9, 3), [1, 2, 3]);
    client.close();
  });

  it('writes back only what a callback changed: API writes to other keys, from the callback or another process, stay', async () => {
    const api = await cluster.api();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = (await request<{ clientId: string }>(client, { op: 'whoami', id: 'who' })).result;
    await api.setSession(clientId, { temporary: true, kept: 'k' });
    // The callback changes `local`, removes `temporary`, writes `fromApi` itself; another process writes `outside`
    // while it runs.
    client.send(JSON.stringify({ op: 'session.mixed', id: 'mixed', value: 'v1', ms: 300 }));
    await waitFor('the callback to have written fromApi', async () => (await api.getSession(clientId))?.fromApi === 'v1');
    await api.updateSession(clientId, { outside: 1 });
    await client.next((m) => m.includes('"id":"mixed"'));
    assert.deepEqual(await api.getSession(clientId), { kept: 'k', fromApi: 'v1', outside: 1, local: 'v1' });
    // And the next callback sees all of it.
    assert.deepEqual((await request<Record<string, unknown>>(client, { op: 'session.get', id: 'get' })).result, { kept: 'k', fromApi: 'v1', outside: 1, local: 'v1' });
    client.close();
  });

  it(`refuses a handler's write-back of a session nested past ${MAX_SESSION_DEPTH} levels, logged with the client id; the worker goes on`, async () => {
    const api = await cluster.api();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = (await request<{ clientId: string }>(client, { op: 'whoami', id: 'who' })).result;
    await api.setSession(clientId, {});
    await request(client, { op: 'session.deep', id: 'at-limit', n: MAX_SESSION_DEPTH });
    assert.deepEqual(await api.getSession(clientId), deepSession(MAX_SESSION_DEPTH), 'a session at the limit is saved');

    await api.setSession(clientId, { kept: true });
    for (const depth of [MAX_SESSION_DEPTH + 1, 200_000]) {
      const { worker } = await request(client, { op: 'session.deep', id: `deep-${depth}`, n: depth });
      const handledBy = cluster.workers.find((role) => role.label === worker)!;
      await handledBy.waitForLog(`ctx.session not saved: ${SESSION_TOO_DEEP}`, { clientId });
      assert.deepEqual(await api.getSession(clientId), { kept: true }, `nothing of the ${depth}-deep session was written`);
    }
    // The same client's next callbacks run, with the session as it was.
    assert.deepEqual(await countBurst(client, 1, 3), [1, 2, 3]);
    assert.deepEqual(await api.getSession(clientId), { kept: true, seen: 3 });
    for (const worker of cluster.workers) assert.ok(worker.alive, `${worker.label} is alive`);
    client.close();
  });

  it(`GatewayClient refuses a session past ${MAX_SESSION_DEPTH} levels with a TypeError, before sending anything`, async () => {
    const api = await cluster.api();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = (await request<{ clientId: string }>(client, { op: 'whoami', id: 'who' })).result;
    await api.setSession(clientId, deepSession(MAX_SESSION_DEPTH, 'object'));
    const commands = await scrapeMetric(gatewayMetrics(), 'gwc_gateway_commands_total');
    const tooDeep = (error: unknown) => error instanceof TypeError && error.message === `session is ${SESSION_TOO_DEEP}`;
    for (const session of [deepSession(MAX_SESSION_DEPTH + 1), deepSession(200_000, 'object')]) {
      await assert.rejects(api.setSession(clientId, session), tooDeep);
      await assert.rejects(api.updateSession(clientId, session), tooDeep);
    }
    const looped: Record<string, unknown> = {};
    looped.self = looped;
    await assert.rejects(api.setSession(clientId, looped), tooDeep);
    assert.equal(await scrapeMetric(gatewayMetrics(), 'gwc_gateway_commands_total'), commands, 'no command reached the gateway');
    assert.deepEqual(await api.getSession(clientId), deepSession(MAX_SESSION_DEPTH, 'object'));
    client.close();
  });

  it('a session that is not a JSON object is refused by the gateway as a bad argument, and the session stays', async () => {
    const api = await cluster.api();
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = (await request<{ clientId: string }>(client, { op: 'whoami', id: 'who' })).result;
    await api.setSession(clientId, { kept: true });
    const refused = (error: unknown) => error instanceof GatewayCommandError && error.code === ErrorCode.BadArgument && /must be a JSON object/.test(error.message);
    await assert.rejects(api.setSession(clientId, ['not', 'an', 'object'] as unknown as Session), refused);
    await assert.rejects(api.updateSession(clientId, 'text' as unknown as Session), refused);
    assert.deepEqual(await api.getSession(clientId), { kept: true });
    client.close();
  });

  it('after a worker dies, the redelivered and later events go on from the session the dead worker left', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    assert.deepEqual(await countBurst(client, 1, 5), range(1, 5));
    const victimName = (await request<unknown>(client, { op: 'whoami', id: 'who' })).worker;
    const victim = cluster.workers.find((worker) => worker.label === victimName)!;

    // A callback that stays running on the victim (not on a redelivery), then counts queued behind it.
    client.send(JSON.stringify({ op: 'record', id: 'rec', n: 1, holdOnce: true, ms: 60_000 }));
    for (let n = 6; n <= 10; n++) client.send(JSON.stringify({ op: 'count', id: `c${n}` }));
    await waitFor('6 events unacknowledged', async () => (await scrapeMetric(gatewayMetrics(), 'gwc_gateway_unacknowledged_events')) === 6);
    await victim.stop('SIGKILL');
    for (let n = 11; n <= 15; n++) client.send(JSON.stringify({ op: 'count', id: `c${n}` }));

    const seen: number[] = [];
    const workers = new Set<string>();
    for (let n = 6; n <= 15; n++) {
      const reply = JSON.parse(await client.next((m) => m.includes(`"id":"c${n}"`), 15_000)) as Reply<number>;
      seen.push(reply.result);
      workers.add(reply.worker);
    }
    assert.deepEqual(seen, range(6, 15));
    assert.ok(!workers.has(victimName), 'the survivor handled them');
    client.close();
  });
});
