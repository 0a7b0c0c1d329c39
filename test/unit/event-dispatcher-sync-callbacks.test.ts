import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import { EventDispatcher } from '../../runtime/worker/event-dispatcher.js';
import type { WorkerGatewayClient } from '../../runtime/worker/worker-gateway-client.js';
import { EventKind, type Envelope } from '../../runtime/wire/types.js';
import { waitFor } from '../harness/wait.js';

const GATEWAY = '127.0.0.1:2900';

describe('callbacks that return without a promise', () => {
  it('are done before dispatch returns: one that throws is logged with its client, and the client\'s next event still runs; both are acknowledged', async () => {
    const sent: Envelope[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const ran: string[] = [];
    const handler = {
      onMessage(clientId: string, message: string | Buffer) {
        ran.push(`${clientId}:${String(message)}`);
        if (message === 'boom') throw new Error('sync failure');
      },
    };
    const log = createLogger({ role: 'test' }, 'error', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const events = new EventDispatcher(handler, {} as WorkerGatewayClient, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, (_address, envelope) => sent.push(envelope));
    try {
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 1, body: Buffer.from('boom') });
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 2, body: Buffer.from('fine') });
      // No turn of the microtask queue in between: nothing was waited for.
      assert.deepEqual(events.stats, { handled: 1, failed: 1, slow: 0, abandoned: 0, dropped: 0 });
      assert.equal(events.inFlight, 0);
      assert.deepEqual(ran, ['c1:boom', 'c1:fine']);
      assert.deepEqual(logs.map((record) => [record.logEvent, record.clientId, record.event]), [['handler-threw', 'c1', 'Message']]);
      const acked = await new Promise<Envelope[]>((resolve) => setImmediate(() => resolve([...sent])));
      assert.deepEqual(acked, [{ ack: { sequences: [1, 2] } }]);
    } finally {
      events.stop();
    }
  });
});

describe('a client whose events are all done', () => {
  it('holds nothing when its gateway is lost: no events dropped, no warning, and a later client of that gateway starts afresh', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const seen: unknown[] = [];
    const handler = {
      onMessage(_clientId: string, _message: string | Buffer, ctx: { session: unknown }) {
        seen.push(structuredClone(ctx.session));
      },
    };
    const log = createLogger({ role: 'test' }, 'warn', (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const events = new EventDispatcher(handler, {} as WorkerGatewayClient, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, () => {});
    try {
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 1, body: Buffer.from('a'), session: Buffer.from('{"n":1}'), sessionVersion: 3 });
      await waitFor('the first event done', () => events.inFlight === 0);
      events.gatewayLost(GATEWAY);
      assert.equal(events.stats.dropped, 0);
      assert.deepEqual(logs, []);
      // The same id again (a gateway back at the address): the session it sends is taken, whatever its version.
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 1, body: Buffer.from('b'), session: Buffer.from('{"n":2}'), sessionVersion: 1 });
      assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
    } finally {
      events.stop();
    }
  });
});

describe('a callback that reads the session and leaves it as it was', () => {
  it('is done before dispatch returns, as one that never touched it: nothing to write back, nothing waited for', () => {
    const seen: unknown[] = [];
    const handler = {
      onMessage(_clientId: string, _message: string | Buffer, ctx: { session: Record<string, unknown> }) {
        seen.push(ctx.session.name);
      },
    };
    const gateway = { writeSessionChanges: () => assert.fail('nothing to write back') } as unknown as WorkerGatewayClient;
    const log = createLogger({ role: 'test' }, 'error', () => {});
    const events = new EventDispatcher(handler, gateway, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, () => {});
    try {
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 1, body: Buffer.from('a'), session: Buffer.from('{"name":"ann"}'), sessionVersion: 1 });
      assert.deepEqual(seen, ['ann']);
      assert.equal(events.stats.handled, 1);
      assert.equal(events.inFlight, 0);
    } finally {
      events.stop();
    }
  });
});
