/**
 * The gateway's WebSocket listener on a real HTTP server and a real ws client: what an idle client's heartbeat
 * leaves behind on the gateway, and the client's pings going to the gateway to answer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import type { ClientHandle, ClientSink, ClientTransport } from '../../runtime/gateway/client-transport.js';
import { attachWebSocketListener } from '../../runtime/gateway/client-protocols/websocket-listener.js';
import { waitFor } from '../harness/wait.js';

/** The Receiver of a client's WebSocket (which is its transport): ws's own fields, which releaseReadQueue() relies on. */
function receiverOf(transport: ClientTransport): { _buffers: Buffer[] } {
  assert.ok(transport instanceof WebSocket, 'the transport is the WebSocket');
  const { _receiver: receiver } = transport as unknown as { _receiver: { _buffers: Buffer[] } };
  assert.ok(Array.isArray(receiver._buffers), "ws's Receiver still queues chunks in _buffers");
  return receiver;
}

/**
 * A listener on a real HTTP server, its sink recording the transports opened (`overrides` replacing the rest), and a
 * ws client connected to it: `use` runs once the client is open on both ends; all is closed after.
 */
async function withClient(
  overrides: Partial<ClientSink>,
  use: (client: WebSocket, transport: ClientTransport, sink: ClientSink) => Promise<void>,
): Promise<void> {
  const transports: ClientTransport[] = [];
  const sink: ClientSink = {
    canAccept: () => true,
    opened: (transport): ClientHandle => {
      transports.push(transport);
      return { id: 'c1' };
    },
    checkUpgrade: () => undefined,
    upgraded: () => {},
    message: () => {},
    alive: () => {},
    pinged: () => {},
    closed: () => {},
    rejectedUpgrade: () => {},
    rejected: () => {},
    ...overrides,
  };
  const server = createServer();
  attachWebSocketListener(server, sink, { maxPayload: 1024, allowedOrigins: [] });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  try {
    await once(client, 'open');
    await waitFor('the client opened on the gateway', () => transports.length === 1, 5000, 10);
    await use(client, transports[0]!, sink);
  } finally {
    client.terminate();
    server.closeAllConnections();
    server.close();
  }
}

describe('WebSocket listener', () => {
  it("swaps ws's read queue for a new one once a pong is read, so an idle client keeps no room for chunks", async () => {
    let pongs = 0;
    const pings: Buffer[] = [];
    const overrides: Partial<ClientSink> = { alive: () => void pongs++, pinged: (_handle, data) => void pings.push(data) };
    await withClient(overrides, async (client, transport, sink) => {
      const before = receiverOf(transport)._buffers;
      const pinged = once(client, 'ping');
      transport.heartbeat(undefined);
      assert.deepEqual((await pinged)[0], Buffer.alloc(0), 'the heartbeat is an empty ping');
      await waitFor('the pong', () => pongs === 1, 5000, 10);
      const after = receiverOf(transport)._buffers;
      assert.notEqual(after, before, 'a new array after the pong');
      assert.equal(after.length, 0);
      // Messages keep the queue: a busy client would otherwise get a new array for each.
      const received = new Promise<void>((resolve) => (sink.message = () => resolve()));
      client.send('hello');
      await received;
      assert.equal(receiverOf(transport)._buffers, after);
      // The client's pings are answered by the gateway (Client.answerPing: here the sink), not by ws on its own.
      assert.equal((transport as unknown as { _autoPongComplete?: unknown })._autoPongComplete, undefined, "no ws autoPong state");
      const ponged = once(client, 'pong');
      client.ping('p1');
      await waitFor('the ping reported', () => pings.length === 1, 5000, 10);
      assert.deepEqual(pings, [Buffer.from('p1')]);
      transport.pong(pings[0]!);
      assert.deepEqual((await ponged)[0], Buffer.from('p1'));
    });
  });

  it('sends each message whole and in order, text or binary, and a lone small message without a writev', async () => {
    const received: { data: Buffer; binary: boolean }[] = [];
    await withClient({}, async (client, transport) => {
      client.on('message', (data: Buffer, binary: boolean) => received.push({ data, binary }));
      // The gateway's end of the connection: how many times it hands the kernel a writev.
      const socket = (transport as unknown as { socket: { _writev: (...args: unknown[]) => void } }).socket;
      let writevs = 0;
      const writev = socket._writev.bind(socket);
      socket._writev = (...args: unknown[]) => {
        writevs++;
        writev(...args);
      };
      transport.sendMessage(Buffer.from('lone'), false);
      await waitFor('the lone message', () => received.length === 1, 5000, 10);
      assert.equal(writevs, 0, 'a lone small message is one plain write');

      // Around the 7-bit and 16-bit length boundaries, and past the size framed here (ws frames those).
      const sizes = [0, 1, 125, 126, 127, 1023, 1024, 1025, 65535, 65536, 70000];
      const sent = sizes.map((size, i) => ({ data: Buffer.alloc(size, 97 + (i % 26)), binary: i % 2 === 1 }));
      for (const { data, binary } of sent) transport.sendMessage(data, binary);
      await waitFor('every message', () => received.length === 1 + sent.length, 5000, 10);
      for (const [i, { data, binary }] of sent.entries()) {
        assert.equal(received[1 + i]!.binary, binary, `message ${i}: binary`);
        assert.ok(received[1 + i]!.data.equals(data), `message ${i}: ${data.length} bytes as sent`);
      }
    });
  });
});
