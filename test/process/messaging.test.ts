import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_PORT, TestCluster } from '../harness/test-cluster.js';
import { TcpTestClient, WsTestClient } from '../harness/test-clients.js';

describe('messages through Register, Gateway and Worker processes', () => {
  const cluster = new TestCluster({ gateways: 2, workers: 2 });
  before(() => cluster.start());
  after(() => cluster.stop());

  it('a WebSocket message reaches a worker and the reply comes back', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('hello there');
    assert.equal(await client.next(), 'hello there');
    const me = await client.request<{ clientId: string }>('whoami');
    assert.match(me.clientId, /^[0-9a-f]{20}$/);
    client.close();
  });

  it('one client\'s messages are handled in order by one worker', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(1));
    for (let i = 0; i < 200; i++) client.send(`m${i}`);
    for (let i = 0; i < 200; i++) assert.equal(await client.next(), `m${i}`);
    const workers = new Set<string>();
    for (let i = 0; i < 5; i++) {
      client.send(JSON.stringify({ op: 'whoami', id: `w${i}` }));
      workers.add((JSON.parse(await client.next((m) => m.includes(`"w${i}"`))) as { worker: string }).worker);
    }
    assert.equal(workers.size, 1, 'sticky routing keeps a client on one worker');
    client.close();
  });

  it('sendToClient crosses gateways', async () => {
    const a = await WsTestClient.open(cluster.gatewayUrl(0));
    const b = await WsTestClient.open(cluster.gatewayUrl(1));
    const bId = (await b.request<{ clientId: string }>('whoami')).clientId;
    await a.request('api', { method: 'sendToClient', args: [bId, 'from a'] });
    assert.equal(await b.next((m) => m === 'from a'), 'from a');
    a.close();
    b.close();
  });

  it('uids and groups span gateways', async () => {
    const a = await WsTestClient.open(cluster.gatewayUrl(0));
    const b = await WsTestClient.open(cluster.gatewayUrl(1));
    const c = await WsTestClient.open(cluster.gatewayUrl(1));
    const ids = await Promise.all([a, b, c].map(async (client) => (await client.request<{ clientId: string }>('whoami')).clientId));
    await a.request('api', { method: 'bindUid', args: [ids[0], 'alice'] });
    await b.request('api', { method: 'bindUid', args: [ids[1], 'alice'] });
    await c.request('api', { method: 'bindUid', args: [ids[2], 'bob'] });
    for (const [client, id] of [[a, ids[0]], [b, ids[1]], [c, ids[2]]] as const) {
      await client.request('api', { method: 'joinGroup', args: [id, 'room1'] });
    }

    const api = await cluster.api();
    assert.deepEqual((await api.getClientIdByUid('alice')).sort(), [ids[0], ids[1]].sort());
    assert.equal(await api.isUidOnline('bob'), true);
    assert.equal(await api.isUidOnline('carol'), false);
    assert.equal(await api.getUidByClientId(ids[2]!), 'bob');
    assert.equal(await api.getClientCountByGroup('room1'), 3);
    assert.deepEqual((await api.getUidListByGroup('room1')).sort(), ['alice', 'bob']);
    assert.equal(await api.getUidCountByGroup('room1'), 2);
    assert.deepEqual((await api.getClientIdListByGroup('room1')).sort(), [...ids].sort());
    assert.ok((await api.getAllGroupIdList()).includes('room1'));
    assert.equal((await api.getAllGroupClientIdCount())['room1'], 3);
    assert.equal((await api.getAllGroupUidCount())['room1'], 2);

    await api.sendToUid('alice', 'to alice');
    assert.equal(await a.next((m) => m === 'to alice'), 'to alice');
    assert.equal(await b.next((m) => m === 'to alice'), 'to alice');

    await api.sendToGroup('room1', 'to room', [ids[1]!]);
    assert.equal(await a.next((m) => m === 'to room'), 'to room');
    assert.equal(await c.next((m) => m === 'to room'), 'to room');
    await api.sendToClient(ids[1]!, 'marker');
    assert.equal(await b.next((m) => m === 'marker' || m === 'to room'), 'marker', 'the excluded client got nothing');

    await api.leaveGroup(ids[2]!, 'room1');
    await api.unbindUid(ids[1]!, 'alice');
    assert.equal(await api.getClientCountByGroup('room1'), 2);
    assert.deepEqual(await api.getClientIdByUid('alice'), [ids[0]]);

    await api.ungroup('room1');
    assert.equal(await api.getClientCountByGroup('room1'), 0);
    for (const client of [a, b, c]) client.close();
  });

  it('takes GatewayWorker\'s forms: lists of groups in the ...ByGroup queries, and refuses an empty uid or group', async () => {
    const clients = await Promise.all([0, 1, 1].map((gateway) => WsTestClient.open(cluster.gatewayUrl(gateway))));
    const ids = await Promise.all(clients.map(async (client) => (await client.request<{ clientId: string }>('whoami')).clientId));
    const api = await cluster.api();
    await api.joinGroup(ids[0]!, 'red');
    await api.joinGroup(ids[1]!, 'blue');
    await api.joinGroup(ids[2]!, 'red');
    await api.joinGroup(ids[2]!, 'blue');
    await api.bindUid(ids[1]!, 'bob');
    assert.equal(await api.getClientCountByGroup(['red', 'blue']), 3, 'each client once, in any of the groups');
    assert.deepEqual((await api.getClientIdListByGroup(['red', 'blue'])).sort(), [...ids].sort());
    assert.deepEqual(Object.keys(await api.getClientSessionsByGroup(['blue'])).sort(), [ids[1], ids[2]].sort());
    assert.deepEqual(await api.getUidListByGroup(['red', 'blue']), ['bob']);
    assert.equal(await api.getClientCountByGroup(['nobody', 'red']), 2);
    assert.deepEqual(await api.batchGetClientIdCountByGroup(['red', 'blue', 'none']), { red: 2, blue: 2, none: 0 });
    assert.deepEqual(await api.isUidsOnline(['bob', 'carol']), { bob: true, carol: false });
    assert.deepEqual(await api.batchGetClientIdByUid(['bob', 'carol']), { bob: [ids[1]], carol: [] });
    await api.ungroup(['red', 'blue']);
    assert.equal(await api.getClientCountByGroup(['red', 'blue']), 0);

    for (const call of [() => api.bindUid(ids[0]!, ''), () => api.sendToUid('', 'x'), () => api.sendToUid([], 'x'), () => api.isUidOnline(''),
      () => api.joinGroup(ids[0]!, ''), () => api.sendToGroup(['a', ''], 'x'), () => api.getClientCountByGroup([])]) {
      await assert.rejects(call(), (error: Error) => error instanceof TypeError && /must be a non-empty string|must not be empty/.test(error.message));
    }
    for (const client of clients) client.close();
  });

  it('sessions: set in a handler, read and updated through the API, seen by the next event', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0) + 'chat?token=abc', { headers: { 'x-test': 'yes', cookie: 'sid=s%3A42; theme=dark' } });
    const id = (await client.request<{ clientId: string }>('whoami')).clientId;
    const first = await client.request<Record<string, unknown>>('session.set', { key: 'name', value: 'ann' });
    assert.equal(first.name, 'ann');
    const upgrade = first.upgrade as { url: string; headers: Record<string, string>; query: unknown; cookies: unknown };
    assert.equal(upgrade.url, '/chat?token=abc', 'onWebSocketConnect saw the request URL');
    assert.equal(upgrade.headers['x-test'], 'yes', 'onWebSocketConnect saw the request headers');
    assert.deepEqual(upgrade.query, { token: 'abc' }, 'and its query, parsed');
    assert.deepEqual(upgrade.cookies, { sid: 's:42', theme: 'dark' }, 'and its cookies, parsed');

    const api = await cluster.api();
    assert.equal((await api.getSession(id))?.name, 'ann');
    await api.updateSession(id, { level: 3 });
    const seen = await client.request<Record<string, unknown>>('session.get');
    assert.equal(seen.name, 'ann');
    assert.equal(seen.level, 3);
    await api.setSession(id, { only: true });
    assert.deepEqual(await api.getSession(id), { only: true });
    assert.equal((await api.getAllClientSessions())[id]?.only, true);
    client.close();
  });

  it('sendToAll reaches every client, or only the listed ones, minus the excluded', async () => {
    const clients = await Promise.all([0, 1, 0, 1].map((g) => WsTestClient.open(cluster.gatewayUrl(g))));
    const ids = await Promise.all(clients.map(async (c) => (await c.request<{ clientId: string }>('whoami')).clientId));
    const api = await cluster.api();
    await api.sendToAll('everyone', null, [ids[3]!]);
    for (const client of clients.slice(0, 3)) assert.equal(await client.next((m) => m === 'everyone'), 'everyone');
    await api.sendToAll('listed', [ids[0]!, ids[1]!]);
    assert.equal(await clients[0]!.next((m) => m === 'listed'), 'listed');
    assert.equal(await clients[1]!.next((m) => m === 'listed'), 'listed');
    await api.sendToClient(ids[2]!, 'end');
    await api.sendToClient(ids[3]!, 'end');
    assert.equal(await clients[2]!.next((m) => m === 'end' || m === 'listed'), 'end');
    assert.equal(await clients[3]!.next((m) => m === 'end' || m === 'everyone' || m === 'listed'), 'end');
    assert.ok((await api.getAllClientCount()) >= 4);
    const all = await api.getAllClientIdList();
    for (const id of ids) assert.ok(all.includes(id));
    for (const client of clients) client.close();
  });

  it('closeClient sends a last message and closes; onClose sees the session; isOnline follows', async () => {
    const watcher = await WsTestClient.open(cluster.gatewayUrl(0));
    const watcherId = (await watcher.request<{ clientId: string }>('whoami')).clientId;
    await watcher.request('api', { method: 'joinGroup', args: [watcherId, 'watchers'] });
    const victim = await WsTestClient.open(cluster.gatewayUrl(1));
    const victimId = (await victim.request<{ clientId: string }>('whoami')).clientId;
    await victim.request('session.set', { key: 'tag', value: 'v1' });
    const api = await cluster.api();
    assert.equal(await api.isOnline(victimId), true);
    await api.closeClient(victimId, 'bye');
    assert.equal(await victim.next((m) => m === 'bye'), 'bye');
    await victim.waitClosed();
    const closed = await watcher.nextJson<{ clientId: string; session: { tag: string } }>('closed');
    assert.equal(closed.clientId, victimId);
    assert.equal(closed.session.tag, 'v1');
    assert.equal(await api.isOnline(victimId), false);
    assert.equal(await api.getSession(victimId), null);
    watcher.close();
  });

  it('destroyClient drops the connection at once', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const id = (await client.request<{ clientId: string }>('whoami')).clientId;
    const api = await cluster.api();
    await api.destroyClient(id);
    await client.waitClosed();
  });

  it('gives each worker its index: the number its name ends in (worker0, worker1), or --worker-index', async () => {
    const seen = new Map<string, number>();
    const clients: WsTestClient[] = [];
    while (seen.size < 2 && clients.length < 20) {
      const client = await WsTestClient.open(cluster.gatewayUrl(0));
      clients.push(client);
      client.send(JSON.stringify({ op: 'whoami', id: 'who' }));
      const reply = JSON.parse(await client.next((m) => m.includes('"id":"who"'))) as { worker: string; result: { workerIndex: number } };
      seen.set(reply.worker, reply.result.workerIndex);
    }
    assert.deepEqual(Object.fromEntries(seen), { worker0: 0, worker1: 1 });
    for (const client of clients) client.close();
  });

  it('invalid client ids are refused with a clear error', async () => {
    const api = await cluster.api();
    await assert.rejects(api.sendToClient('not-a-client-id', 'x'), /invalid client id/);
  });

  it('every process is still running', () => {
    for (const process of cluster.all()) assert.ok(process.alive, `${process.label} is alive`);
  });
});

for (const protocol of ['text', 'frame'] as const) {
  describe(`raw TCP clients, ${protocol} protocol`, () => {
    const cluster = new TestCluster({ gateways: 1, workers: 1, protocol });
    before(() => cluster.start());
    after(() => cluster.stop());

    it('messages reach the worker and replies come back', async () => {
      const client = await TcpTestClient.open(cluster.gatewayIp(0), CLIENT_PORT, protocol);
      client.send('first line');
      client.send('second line');
      assert.equal(await client.next(), 'first line');
      assert.equal(await client.next(), 'second line');
      const me = await client.request<{ clientId: string }>('whoami');
      const api = await cluster.api();
      await api.sendToClient(me.clientId, 'pushed');
      assert.equal(await client.next((m) => m === 'pushed'), 'pushed');
      client.close();
    });
  });
}
