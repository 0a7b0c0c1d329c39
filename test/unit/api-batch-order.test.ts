/**
 * How the HTTP API makes a batch's calls: in order, each once the one before has its answer, except that a run of
 * sends is made back to back (a send's answer says only that its command is queued), and the call after the run
 * waits for every one of them. The server is real; the cluster behind it is a GatewayApi whose calls answer when the
 * test says, so what is made before which answer can be seen (real gateways answer sends at once).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { GatewayApi } from '../../runtime/gateway-api/gateway-api.js';
import { listenApi, postApi } from '../harness/http-api.js';
import { waitFor } from '../harness/wait.js';

const CLIENT = '7f00270a0b5400000001';

interface Made {
  call: string;
  answer(error?: Error): void;
}

/** A turn of the event loop: whatever the answers given so far lead to (promise callbacks) has run. */
const settledTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the HTTP API making a batch\'s calls', () => {
  const made: Made[] = [];
  const api = new Proxy({} as GatewayApi, {
    get: (_, method: string) => (first: unknown) =>
      sharedOr(method, first, () => new Promise<void>((resolve, reject) => made.push({ call: `${method} ${JSON.stringify(first)}`, answer: (error) => (error ? reject(error) : resolve()) }))),
  });
  /** Sends to a uid starting with "shared" all get this one promise (as a gateway's sends all get its connection's). */
  let shared: Made | undefined;
  const sharedOr = (method: string, first: unknown, own: () => Promise<void>): Promise<void> => {
    if (method !== 'sendToUid' || typeof first !== 'string' || !first.startsWith('shared')) return own();
    if (shared) return sharedPromise;
    sharedPromise = own();
    shared = made.at(-1);
    return sharedPromise;
  };
  let sharedPromise: Promise<void>;
  let server: Awaited<ReturnType<typeof listenApi>>;

  before(async () => {
    server = await listenApi(api);
  });
  after(() => server.close());

  it('makes a run of sends back to back, the call after it once all have answered, and answers each in its place', async () => {
    const answer = postApi(server.base, 'batch', {
      calls: [
        { method: 'sendToUid', args: { uid: 'u1', message: 'a' } },
        { method: 'sendToClient', args: { clientId: CLIENT, message: 'b' } },
        { method: 'sendToGroup', args: { group: 'g', message: 'c' } },
        { method: 'bindUid', args: { clientId: CLIENT, uid: 'u2' } },
        { method: 'sendToAll', args: { message: 'd' } },
        { method: 'unbindUid', args: { clientId: CLIENT, uid: 'u2' } },
      ],
    });
    await waitFor('the run of three sends to be made', () => made.length === 3, 5000, 5);
    assert.deepEqual(made.map((m) => m.call), ['sendToUid "u1"', `sendToClient "${CLIENT}"`, 'sendToGroup "g"']);

    // Answered out of order, one failing: the call after the run waits for the last of them.
    made[2]!.answer();
    made[0]!.answer();
    await settledTurn();
    assert.equal(made.length, 3, 'bindUid waits for every send before it');
    made[1]!.answer(new Error('gateway lost'));
    await waitFor('bindUid to be made', () => made.length === 4, 5000, 5);
    assert.equal(made[3]!.call, `bindUid "${CLIENT}"`);

    // A call that is not a send holds back the send after it until it has its answer.
    await settledTurn();
    assert.equal(made.length, 4, 'the send after bindUid waits for it');
    made[3]!.answer();
    await waitFor('sendToAll to be made', () => made.length === 5, 5000, 5);
    await settledTurn();
    assert.equal(made.length, 5, 'unbindUid waits for the send before it');
    made[4]!.answer();
    await waitFor('unbindUid to be made', () => made.length === 6, 5000, 5);
    made[5]!.answer();

    assert.deepEqual(await answer, {
      status: 200,
      body: {
        results: [{ result: null }, { error: 'gateway lost' }, { result: null }, { result: null }, { result: null }, { result: null }],
      },
    });
  });

  it('answers sends that share a promise with its outcome each, and a send between them with its own', async () => {
    made.length = 0;
    const answer = postApi(server.base, 'batch', {
      calls: [
        { method: 'sendToUid', args: { uid: 'shared1', message: 'a' } },
        { method: 'sendToUid', args: { uid: 'shared2', message: 'b' } },
        { method: 'sendToUid', args: { uid: 'own', message: 'c' } },
        { method: 'sendToUid', args: { uid: 'shared3', message: 'd' } },
        { method: 'sendToGroup', args: { group: 'g', message: 'e' } },
      ],
    });
    await waitFor('the run of sends to be made', () => made.length === 3, 5000, 5);
    assert.deepEqual(made.map((m) => m.call), ['sendToUid "shared1"', 'sendToUid "own"', 'sendToGroup "g"']);
    made[1]!.answer();
    made[2]!.answer();
    await settledTurn();
    shared!.answer(new Error('gateway lost'));
    assert.deepEqual(await answer, {
      status: 200,
      body: { results: [{ error: 'gateway lost' }, { error: 'gateway lost' }, { result: null }, { error: 'gateway lost' }, { result: null }] },
    });
  });
});
