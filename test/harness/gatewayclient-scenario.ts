/**
 * One run of every GatewayClient command, as a PHP backend makes them, against a cluster that speaks GatewayWorker's
 * protocols: GatewayWorker itself (to record its answers) or GatewayCluster with compatibility on (to compare). Three
 * WebSocket clients a, b, c connect in turn; each send's effect is checked on them (what each got, and nothing
 * else before a marker sent to all after it), and each answer is kept as var_export() wrote it, with the client ids
 * written as a, b, c, so the transcripts of the two systems compare line for line.
 */
import assert from 'node:assert/strict';
import { PhpGatewayClient } from './php-gatewayclient.js';
import { WsTestClient } from './test-clients.js';
import { waitFor } from './wait.js';

export interface ScenarioTarget {
  /** GatewayClient's registerAddress and secretKey. */
  registerAddress: string;
  secretKey: string;
  /** Where the WebSocket clients connect. */
  wsUrl: string;
}

export interface Transcript {
  /** `Gateway::method(args) => var_export(result)`, one entry per call. */
  answers: Array<{ call: string; answer: string }>;
}

type Names = 'a' | 'b' | 'c';

export async function runGatewayClientScenario(target: ScenarioTarget): Promise<Transcript> {
  const php = new PhpGatewayClient(target.registerAddress, target.secretKey);
  const clients: Partial<Record<Names, WsTestClient>> = {};
  const ids: Partial<Record<Names, string>> = {};
  const answers: Transcript['answers'] = [];
  try {
    for (const name of ['a', 'b', 'c'] as const) {
      const known = new Set(Object.keys(JSON.parse(JSON.stringify((await php.call('getAllClientIdList')).json ?? {})) as Record<string, string>));
      clients[name] = await WsTestClient.open(target.wsUrl);
      ids[name] = await waitFor(`the client id of ${name}`, async () => {
        const list = Object.keys(((await php.call('getAllClientIdList')).json ?? {}) as Record<string, string>);
        return list.find((id) => !known.has(id));
      });
    }
    const [a, b, c] = [ids.a!, ids.b!, ids.c!];
    const named = (text: string) => text.replaceAll(a, 'A').replaceAll(b, 'B').replaceAll(c, 'C').replace(/[0-9a-f]{20}/g, 'OTHER');
    const ask = async (method: string, ...args: unknown[]) => {
      const answer = await php.exported(method, ...args);
      answers.push({ call: named(`${method}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`), answer: named(answer) });
    };
    let markers = 0;
    /** A send, then what each client got from it, checked up to a marker sent to all afterwards. */
    const send = async (expected: Partial<Record<Names, string[]>>, method: string, ...args: unknown[]) => {
      await ask(method, ...args);
      const marker = `marker-${++markers}`;
      for (const [name, messages] of Object.entries(expected)) {
        for (const message of messages) await clients[name as Names]!.next((m) => m === message);
      }
      await ask('sendToAll', marker);
      for (const name of ['a', 'b', 'c'] as const) {
        const client = clients[name]!;
        if (client.closed) continue;
        await client.next((m) => m === marker);
        const before = client.inbox.splice(0);
        assert.deepEqual(before, [], `${method}: ${name} got more than expected before ${marker}`);
      }
    };

    await ask('bindUid', a, 'alice');
    await ask('bindUid', b, 'bob');
    await ask('bindUid', c, '42');
    await ask('joinGroup', a, 'room');
    await ask('joinGroup', b, 'room');
    await ask('joinGroup', c, '7');
    await ask('joinGroup', a, 'lobby');

    await send({ a: ['to-a'] }, 'sendToClient', a, 'to-a');
    await send({ b: ['to-bob'] }, 'sendToUid', 'bob', 'to-bob');
    await send({ a: ['to-uids'], c: ['to-uids'] }, 'sendToUid', ['alice', '42'], 'to-uids');
    await send({ a: ['to-room'], b: ['to-room'] }, 'sendToGroup', 'room', 'to-room');
    await send({ b: ['to-room-not-a'] }, 'sendToGroup', 'room', 'to-room-not-a', [a]);
    await send({ a: ['to-groups'], b: ['to-groups'], c: ['to-groups'] }, 'sendToGroup', ['room', '7'], 'to-groups');
    await send({ a: ['to-all'], b: ['to-all'], c: ['to-all'] }, 'sendToAll', 'to-all');
    await send({ a: ['to-list'], c: ['to-list'] }, 'sendToAll', 'to-list', [a, c]);
    await send({ a: ['to-all-not-b'], c: ['to-all-not-b'] }, 'sendToAll', 'to-all-not-b', null, [b]);
    await send({ b: ['to-list-not-c'] }, 'sendToAll', 'to-list-not-c', [b, c], [c]);
    await send({}, 'sendToAll', 'to-nobody', []);

    await ask('isOnline', a);
    await ask('isOnline', a.slice(0, 12) + 'ffffff00');
    await ask('isUidOnline', 'alice');
    await ask('isUidOnline', 'nobody');
    await ask('isUidsOnline', ['alice', 'nobody', '42']);
    await ask('getClientIdByUid', 'alice');
    await ask('getClientIdByUid', 'nobody');
    await ask('batchGetClientIdByUid', ['alice', 'bob', 'nobody', '42']);
    await ask('getUidByClientId', b);
    await ask('getAllClientIdList');
    await ask('getAllClientCount');
    await ask('getAllClientIdCount');
    await ask('getClientIdListByGroup', 'room');
    await ask('getClientCountByGroup', 'room');
    await ask('getClientIdCountByGroup', 'nowhere');
    await ask('batchGetClientIdCountByGroup', ['room', '7', 'nowhere']);
    await ask('getUidListByGroup', 'room');
    await ask('getUidCountByGroup', 'room');
    await ask('getAllUidList');
    await ask('getAllUidCount');
    await ask('getAllGroupIdList');
    await ask('getAllGroupClientIdList');
    await ask('getAllGroupClientIdCount');
    await ask('getAllGroupUidList');
    await ask('getAllGroupUidCount');

    await ask('getSession', a);
    await ask('getAllClientSessions');
    await ask('setSession', a, { uid: 7, name: 'a', tags: ['x', 'y'], score: 1.5, ok: true, none: null });
    await ask('getSession', a);
    await ask('updateSession', a, { name: 'A', tags: ['z'], extra: { k: 1 } });
    await ask('getSession', a);
    await ask('updateSession', b, { first: true });
    await ask('getSession', b);
    await ask('setSession', c, []);
    await ask('getClientSessionsByGroup', 'room');
    await ask('getAllClientSessions');

    await ask('leaveGroup', b, 'room');
    await ask('getClientIdListByGroup', 'room');
    await ask('unbindUid', c, '42');
    await ask('isUidOnline', '42');
    await ask('ungroup', 'lobby');
    await ask('getAllGroupIdList');

    await ask('closeClient', b, 'bye');
    assert.equal(await clients.b!.next((m) => m === 'bye'), 'bye');
    await clients.b!.waitClosed();
    await ask('destoryClient', c);
    await clients.c!.waitClosed();
    await waitFor('b and c gone', async () => (await php.call('getAllClientCount')).json === 1);
    await ask('isOnline', b);
    await ask('getSession', b);
    await ask('getAllClientIdList');
    return { answers };
  } finally {
    php.close();
    for (const client of Object.values(clients)) client.close();
  }
}
