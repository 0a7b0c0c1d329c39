import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { apiMethods } from '../../runtime/http-api/api-methods.js';
import { openApiPath } from '../../runtime/http-api/write-openapi.js';
import { MAX_SESSION_DEPTH } from '../../runtime/wire/session-depth.js';
import { deepSessionJson } from '../harness/deep-json.js';
import { callApi, postApi, startApi, TEST_API_KEY } from '../harness/http-api.js';
import { metricValue } from '../harness/metrics.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

async function clientIdOf(client: WsTestClient): Promise<string> {
  return (await client.request<{ clientId: string }>('whoami')).clientId;
}

const sorted = <T>(list: T[]) => [...list].sort();

describe('the HTTP API', () => {
  const cluster = clusterForSuite({ gateways: 2, workers: 1 });
  const keyDir = mkdtempSync(path.join(tmpdir(), 'gwc-api-keys-'));
  after(() => rmSync(keyDir, { recursive: true, force: true }));
  let base = '';
  const used = new Set<string>();
  const call = <T>(method: string, args: Record<string, unknown> = {}) => {
    used.add(method);
    return callApi<T>(base, method, args);
  };

  it('starts and serves its OpenAPI document, the same as the one checked in', async () => {
    base = await startApi(cluster);
    const response = await fetch(`${base}/v1/openapi.json`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), JSON.parse(readFileSync(openApiPath, 'utf8')));
  });

  it('makes every Gateway API call, with the answers the TypeScript API gives', async () => {
    // One client on each gateway, so queries merge the answers of both.
    const a = await WsTestClient.open(cluster.gatewayUrl(0));
    const b = await WsTestClient.open(cluster.gatewayUrl(1));
    const [idA, idB] = [await clientIdOf(a), await clientIdOf(b)];

    await call('bindUid', { clientId: idA, uid: 'alice' });
    await call('bindUid', { clientId: idB, uid: 'bob' });
    await call('joinGroup', { clientId: idA, group: 'room' });
    await call('joinGroup', { clientId: idB, group: 'room' });

    await call('sendToClient', { clientId: idA, message: 'to a' });
    assert.equal(await a.next((m) => m === 'to a'), 'to a');
    await call('sendToUid', { uid: ['alice', 'bob'], message: 'to uids' });
    await Promise.all([a.next((m) => m === 'to uids'), b.next((m) => m === 'to uids')]);
    await call('sendToGroup', { group: 'room', message: 'to room', excludeClientIds: [idA] });
    await b.next((m) => m === 'to room');
    await call('sendToAll', { message: 'to all' });
    await Promise.all([a.next((m) => m === 'to all'), b.next((m) => m === 'to all')]);
    const binary = new Promise<Buffer>((resolve) => a.ws.once('message', (data: Buffer, isBinary: boolean) => isBinary && resolve(data)));
    await call('sendToAll', { message: Buffer.from([0, 1, 254, 255]).toString('base64'), binary: true, clientIds: [idA] });
    assert.deepEqual([...(await binary)], [0, 1, 254, 255]);

    assert.equal(await call('isOnline', { clientId: idA }), true);
    assert.equal(await call('isUidOnline', { uid: 'bob' }), true);
    assert.equal(await call('isUidOnline', { uid: 'nobody' }), false);
    assert.deepEqual(await call('getClientIdByUid', { uid: 'alice' }), [idA]);
    assert.equal(await call('getUidByClientId', { clientId: idB }), 'bob');
    assert.deepEqual(sorted(await call<string[]>('getClientIdListByGroup', { group: 'room' })), sorted([idA, idB]));
    assert.equal(await call('getClientCountByGroup', { group: 'room' }), 2);
    assert.equal(await call('getClientCountByGroup', { group: ['room', 'nowhere'] }), 2, 'a list of groups');
    assert.deepEqual(sorted(await call<string[]>('getUidListByGroup', { group: 'room' })), ['alice', 'bob']);
    assert.equal(await call('getUidCountByGroup', { group: 'room' }), 2);
    assert.deepEqual(await call('isUidsOnline', { uids: ['bob', 'nobody'] }), { bob: true, nobody: false });
    assert.deepEqual(await call('batchGetClientIdByUid', { uids: ['alice', 'bob', 'nobody'] }), { alice: [idA], bob: [idB], nobody: [] });
    assert.deepEqual(await call('batchGetClientIdCountByGroup', { groups: ['room', 'nowhere'] }), { room: 2, nowhere: 0 });

    await call('setSession', { clientId: idA, session: { plan: 'pro', n: 1 } });
    await call('setSession', { clientId: idB, session: { plan: 'free' } });
    await call('updateSession', { clientId: idA, session: { n: 2 } });
    assert.deepEqual(await call('getSession', { clientId: idA }), { plan: 'pro', n: 2 });
    const sessions = { [idA]: { plan: 'pro', n: 2 }, [idB]: { plan: 'free' } };
    assert.deepEqual(await call('getClientSessionsByGroup', { group: 'room' }), sessions);
    assert.deepEqual(await call('getAllClientSessions'), sessions);

    assert.deepEqual(sorted(await call<string[]>('getAllClientIdList')), sorted([idA, idB]));
    assert.equal(await call('getAllClientCount'), 2);
    assert.deepEqual(sorted(await call<string[]>('getAllUidList')), ['alice', 'bob']);
    assert.equal(await call('getAllUidCount'), 2);
    assert.deepEqual(await call('getAllGroupIdList'), ['room']);
    assert.deepEqual(Object.keys(await call<Record<string, string[]>>('getAllGroupClientIdList')), ['room']);
    assert.deepEqual(await call('getAllGroupClientIdCount'), { room: 2 });
    assert.deepEqual(sorted((await call<Record<string, string[]>>('getAllGroupUidList')).room!), ['alice', 'bob']);
    assert.deepEqual(await call('getAllGroupUidCount'), { room: 2 });

    await call('leaveGroup', { clientId: idB, group: 'room' });
    assert.equal(await call('getClientCountByGroup', { group: 'room' }), 1);
    await call('ungroup', { group: 'room' });
    assert.deepEqual(await call('getAllGroupIdList'), []);
    await call('unbindUid', { clientId: idB, uid: 'bob' });
    assert.equal(await call('getUidByClientId', { clientId: idB }), null);

    await call('closeClient', { clientId: idA, message: 'bye' });
    assert.equal(await a.next((m) => m === 'bye'), 'bye');
    await a.waitClosed();
    await call('destroyClient', { clientId: idB });
    await b.waitClosed();
    assert.equal(await call('isOnline', { clientId: idA }), false);
    assert.equal(await call('getSession', { clientId: idA }), null);

    assert.deepEqual(sorted([...used]), sorted(Object.keys(apiMethods)), 'every method of the API was called');
  });

  it('does nothing without a valid key: 401', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const id = await clientIdOf(client);
    for (const key of [null, 'wrong-key-0123456789abcdef', `${TEST_API_KEY}x`, '']) {
      const answer = await postApi(base, 'sendToClient', { clientId: id, message: 'must not arrive' }, key);
      assert.equal(answer.status, 401, `key ${JSON.stringify(key)}`);
      assert.match(answer.body.error ?? '', /API key/);
    }
    const basic = await fetch(`${base}/v1/sendToClient`, { method: 'POST', headers: { authorization: `Basic ${TEST_API_KEY}` }, body: '{}' });
    assert.equal(basic.status, 401);
    await callApi(base, 'sendToClient', { clientId: id, message: 'marker' });
    assert.equal(await client.next((m) => m === 'marker' || m === 'must not arrive'), 'marker');
    client.close();
  });

  it('answers bad input with 400 naming the field, 405 and 413, and stays up', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['sendToUid', '{"uid": "u1", "message": ', /not valid JSON/],
      ['sendToUid', { uid: 5, message: 'x' }, /^body\.uid: expected a uid \(a non-empty string\) or a non-empty list of them/],
      ['sendToUid', { uid: '', message: 'x' }, /^body\.uid: /],
      ['sendToGroup', { group: [], message: 'x' }, /^body\.group: must not be empty/],
      ['sendToUid', { uid: 'u1' }, /^body\.message: /],
      ['sendToUid', { uid: 'u1', message: 'x', extra: 1 }, /^body: .*extra/],
      ['sendToClient', { clientId: 'not-hex', message: 'x' }, /^body\.clientId: not a client id/],
      ['sendToClient', { clientId: '7f00270a0b5400000001', message: '***', binary: true }, /^body\.message: not valid base64/],
      ['setSession', { clientId: '7f00270a0b5400000001', session: [1] }, /^body\.session: /],
      ['sendToAll', [1, 2], /^body: /],
      ['noSuchMethod', {}, /unknown method "noSuchMethod"/],
    ];
    for (const [method, body, message] of cases) {
      const answer = await postApi(base, method, body);
      assert.equal(answer.status, 400, `${method} ${JSON.stringify(body)}`);
      assert.match(answer.body.error ?? '', message);
    }
    const get = await fetch(`${base}/v1/getAllClientCount`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    assert.equal(get.status, 405);
    const big = await postApi(base, 'sendToAll', { message: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.equal(typeof (await callApi(base, 'getAllClientCount')), 'number', 'the API still answers');
  });

  it(`answers a session nested past ${MAX_SESSION_DEPTH} levels with 400 naming the field and the limit, and stays up`, async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const id = await clientIdOf(client);
    // Bodies written as text: JSON.stringify itself overflows long before 200,000 levels.
    const body = (session: string) => `{"clientId":${JSON.stringify(id)},"session":${session}}`;
    const atLimit = deepSessionJson(MAX_SESSION_DEPTH, 'object');
    assert.equal((await postApi(base, 'setSession', body(atLimit))).status, 200);
    assert.deepEqual(await call('getSession', { clientId: id }), JSON.parse(atLimit), 'a session at the limit is stored');

    const tooDeep = `nested deeper than ${MAX_SESSION_DEPTH} levels, the most a session may have`;
    for (const [method, session] of [
      ['setSession', deepSessionJson(MAX_SESSION_DEPTH + 1, 'object')],
      ['setSession', deepSessionJson(200_000)],
      ['updateSession', deepSessionJson(200_000)],
    ] as const) {
      const answer = await postApi(base, method, body(session));
      assert.equal(answer.status, 400, `${method} of a session ${session.length} bytes long`);
      assert.equal(answer.body.error, `body.session: ${tooDeep}`);
    }
    const batch = await postApi(base, 'batch', `{"calls":[{"method":"sendToClient","args":{"clientId":${JSON.stringify(id)},"message":"must not arrive"}},{"method":"setSession","args":${body(deepSessionJson(200_000))}}]}`);
    assert.equal(batch.status, 400);
    assert.equal(batch.body.error, `calls[1].args.session: ${tooDeep}`);

    assert.deepEqual(await call('getSession', { clientId: id }), JSON.parse(atLimit), 'nothing of them was stored');
    await callApi(base, 'sendToClient', { clientId: id, message: 'still serving' });
    assert.equal(await client.next((m) => m === 'still serving' || m === 'must not arrive'), 'still serving');
    for (const role of cluster.all()) assert.ok(role.alive, `${role.label} is alive`);
    client.close();
  });

  it('runs a batch in order, and refuses a batch with one bad call without doing any', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(1));
    const id = await clientIdOf(client);
    const answer = await postApi(base, 'batch', {
      calls: [
        { method: 'bindUid', args: { clientId: id, uid: 'carol' } },
        { method: 'sendToUid', args: { uid: 'carol', message: 'batched' } },
        { method: 'getUidByClientId', args: { clientId: id } },
      ],
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.results, [{ result: null }, { result: null }, { result: 'carol' }]);
    await client.next((m) => m === 'batched');

    const refused = await postApi(base, 'batch', {
      calls: [
        { method: 'sendToUid', args: { uid: 'carol', message: 'must not arrive' } },
        { method: 'joinGroup', args: { clientId: id } },
      ],
    });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error ?? '', /^calls\[1\]\.args\.group: /);
    await callApi(base, 'sendToUid', { uid: 'carol', message: 'marker' });
    assert.equal(await client.next((m) => m === 'marker' || m === 'must not arrive'), 'marker');
    client.close();
  });

  it('counts requests by method and status in /metrics', async () => {
    const text = await (await fetch(`${base.replace(':7280', ':9280')}/metrics`)).text();
    assert.ok(metricValue(text, 'gwc_api_requests_total{method="sendToUid",status="200",role="api"}') >= 2, text.slice(0, 400));
    assert.ok(metricValue(text, 'gwc_api_requests_total{method="sendToClient",status="401",role="api"}') >= 4);
    assert.ok(metricValue(text, 'gwc_api_requests_total{method="unknown",status="400",role="api"}') >= 1);
    assert.ok(metricValue(text, 'gwc_api_calls_total{method="bindUid",outcome="ok",role="api"}') >= 3);
  });

  it('takes several keys from a file and picks up a rotation without a restart', async () => {
    const file = path.join(keyDir, 'keys');
    const [oldKey, newKey] = ['old-key-0123456789abcdef', 'new-key-0123456789abcdef'];
    writeFileSync(file, `${oldKey}\n`);
    const rotating = await startApi(cluster, { index: 1, args: ['--api-key-file', file], env: { GWC_API_KEY: '' } });
    const status = async (key: string) => (await postApi(rotating, 'getAllClientCount', {}, key)).status;
    assert.equal(await status(oldKey), 200);
    assert.equal(await status(newKey), 401);
    writeFileSync(file, `${oldKey}\n${newKey}\n`);
    await waitFor('the new key to be accepted', async () => (await status(newKey)) === 200, 5000, 100);
    assert.equal(await status(oldKey), 200, 'both valid while clients move over');
    writeFileSync(file, `${newKey}\n`);
    await waitFor('the old key to be refused', async () => (await status(oldKey)) === 401, 5000, 100);
    assert.equal(await status(newKey), 200);
  });

  it('is usable from other languages: Python\'s standard library and curl push to a client', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const id = await clientIdOf(client);
    await callApi(base, 'bindUid', { clientId: id, uid: 'dave' });
    const python = [
      'import json, sys, urllib.request',
      'base, key = sys.argv[1], sys.argv[2]',
      'def call(method, **args):',
      '    request = urllib.request.Request(f"{base}/v1/{method}", data=json.dumps(args).encode(), method="POST",',
      '        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})',
      '    with urllib.request.urlopen(request) as response: return json.load(response)["result"]',
      'call("sendToUid", uid="dave", message="from python")',
      'print(json.dumps({"online": call("isUidOnline", uid="dave"), "count": call("getAllClientCount")}))',
    ].join('\n');
    const printed = JSON.parse(execFileSync('python3', ['-c', python, base, TEST_API_KEY], { encoding: 'utf8' })) as { online: boolean; count: number };
    assert.equal(printed.online, true);
    assert.ok(printed.count >= 1);
    await client.next((m) => m === 'from python');

    const curled = execFileSync('curl', ['-sS', '-H', `Authorization: Bearer ${TEST_API_KEY}`, '-d', JSON.stringify({ uid: 'dave', message: 'from curl' }), `${base}/v1/sendToUid`], {
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(curled), { result: null });
    await client.next((m) => m === 'from curl');
    client.close();
  });
});
