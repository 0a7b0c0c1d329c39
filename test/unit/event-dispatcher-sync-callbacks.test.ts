import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import { EventDispatcher } from '../../runtime/worker/event-dispatcher.js';
import type { WorkerGatewayClient } from '../../runtime/worker/worker-gateway-client.js';
import { EventKind, type Envelope } from '../../runtime/wire/types.js';

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
