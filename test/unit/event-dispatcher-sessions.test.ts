import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkerGatewayClient } from '../../runtime/worker/worker-gateway-client.js';
import { createLogger } from '../../runtime/observability/log.js';
import { EventDispatcher } from '../../runtime/worker/event-dispatcher.js';
import { MAX_SESSION_DEPTH, SESSION_TOO_DEEP } from '../../runtime/wire/session-depth.js';
import { EventKind, type Envelope } from '../../runtime/wire/types.js';
import { deepSessionJson } from '../harness/deep-json.js';
import { waitFor } from '../harness/wait.js';

const GATEWAY = '127.0.0.1:2900';

/** A dispatcher whose handler records the session each message saw, after waiting for `gate` when it is set. */
function dispatcher() {
  const seen: unknown[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const state: { gate?: Promise<void> } = {};
  const log = createLogger({ role: 'test' }, 'debug', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const gateway = { writeSessionChanges: () => assert.fail('nothing to write back') } as unknown as WorkerGatewayClient;
  const handler = {
    async onMessage(_id: string, _message: string | Buffer, ctx: { session: unknown }) {
      seen.push(structuredClone(ctx.session));
      await state.gate;
    },
  };
  const events = new EventDispatcher(handler, gateway, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, () => {});
  const refusals = () => logs.filter((record) => record.msg === `session from the gateway not taken: ${SESSION_TOO_DEEP}`).map((record) => [record.clientId, record.gateway]);
  const message = (sequence: number, session?: string, clientId = 'c1') =>
    events.dispatch(GATEWAY, { kind: EventKind.Message, clientId, sequence, body: Buffer.from('hi'), ...(session ? { session: Buffer.from(session), sessionVersion: sequence } : {}) });
  return { events, seen, state, refusals, message };
}

describe('sessions a gateway sends a worker', () => {
  it(`are not taken past ${MAX_SESSION_DEPTH} levels: the callbacks go on with the session the worker had, and it logs the client id`, async () => {
    const { events, seen, state, refusals, message } = dispatcher();
    try {
      let release!: () => void;
      state.gate = new Promise((resolve) => (release = resolve));
      message(1, '{"n":1}');
      await waitFor('the first callback', () => seen.length === 1);
      // While the client's first callback runs: two sessions past the limit, in an event and in a SessionUpdate.
      message(2, deepSessionJson(200_000));
      events.sessionUpdated(GATEWAY, { clientId: 'c1', session: Buffer.from(deepSessionJson(MAX_SESSION_DEPTH + 1, 'object')), sessionVersion: 3 });
      release();
      await waitFor('the second callback', () => seen.length === 2);
      assert.deepEqual(seen, [{ n: 1 }, { n: 1 }]);
      assert.deepEqual(refusals(), [['c1', GATEWAY], ['c1', GATEWAY]]);

      state.gate = undefined;
      message(4, deepSessionJson(MAX_SESSION_DEPTH, 'object'));
      await waitFor('the third callback', () => seen.length === 3);
      assert.deepEqual(seen[2], JSON.parse(deepSessionJson(MAX_SESSION_DEPTH, 'object')), 'a session at the limit is taken');
      // A client the worker holds no session for runs with an empty one.
      message(5, deepSessionJson(200_000, 'object'), 'c2');
      await waitFor('the fourth callback', () => seen.length === 4);
      assert.deepEqual(seen[3], {});
      assert.deepEqual(refusals().at(-1), ['c2', GATEWAY]);
    } finally {
      events.stop();
    }
  });

  it('a callback that reads ctx.session without changing it, or never touches it, writes nothing back; one that changes or replaces it writes the changes', async () => {
    const written: Array<[string, unknown]> = [];
    const gateway = { writeSessionChanges: async (clientId: string, changes: unknown) => void written.push([clientId, changes]) } as unknown as WorkerGatewayClient;
    const done: string[] = [];
    const handler = {
      async onMessage(_id: string, message: string | Buffer, ctx: { session: Record<string, unknown> }) {
        if (message === 'read') assert.deepEqual(ctx.session, { n: 1 });
        if (message === 'change') ctx.session.x = 1;
        if (message === 'replace') ctx.session = { y: 2 };
        done.push(String(message));
      },
    };
    const log = createLogger({ role: 'test' }, 'warn', () => {});
    const events = new EventDispatcher(handler, gateway, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, () => {});
    try {
      const bodies = ['ignore', 'read', 'change', 'replace'];
      bodies.forEach((body, i) => events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: `c${i}`, sequence: i + 1, body: Buffer.from(body), session: Buffer.from('{"n":1}'), sessionVersion: 1 }));
      await waitFor('every callback, and the writes back', () => done.length === bodies.length && events.inFlight === 0);
      assert.deepEqual(written, [
        ['c2', { set: { x: 1 }, removed: [] }],
        ['c3', { set: { y: 2 }, removed: ['n'] }],
      ]);
    } finally {
      events.stop();
    }
  });
});
