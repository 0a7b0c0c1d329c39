import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import { EventDispatcher } from '../../runtime/worker/event-dispatcher.js';
import type { WorkerGatewayClient } from '../../runtime/worker/worker-gateway-client.js';
import { EventKind, type Envelope } from '../../runtime/wire/types.js';

const GATEWAY = '127.0.0.1:2900';

describe('acknowledgements a worker sends', () => {
  it('go out after the commands of their callbacks, before the batch those commands are in is written', async () => {
    const sent: Envelope[] = [];
    const handler = {
      // As ctx.sendToCurrentClient does: the command is queued on the connection while the callback runs.
      async onMessage(clientId: string) {
        sent.push({ command: { clientIds: [clientId] } });
      },
    };
    const gateway = {} as WorkerGatewayClient;
    const log = createLogger({ role: 'test' }, 'error', () => {});
    const events = new EventDispatcher(handler, gateway, log, { processTimeoutMs: 30_000, abandonTimeoutMs: 0 }, (_address, envelope) => sent.push(envelope));
    try {
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c1', sequence: 1, body: Buffer.from('a') });
      events.dispatch(GATEWAY, { kind: EventKind.Message, clientId: 'c2', sequence: 2, body: Buffer.from('b') });
      // The connection's outbox writes its batch at setImmediate (outbox.ts): what it holds by then leaves in one write.
      const written = await new Promise<Envelope[]>((resolve) => setImmediate(() => resolve([...sent])));
      assert.deepEqual(written, [{ command: { clientIds: ['c1'] } }, { command: { clientIds: ['c2'] } }, { ack: { sequences: [1, 2] } }]);
    } finally {
      events.stop();
    }
  });
});
