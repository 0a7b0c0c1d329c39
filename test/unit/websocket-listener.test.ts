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
import { SMALL_FRAME_PAYLOAD, attachWebSocketListener } from '../../runtime/gateway/client-protocols/websocket-listener.js';
import { waitFor } from '../harness/wait.js';

/** The Receiver of a client's WebSocket (which is its transport): ws's own fields, which releaseReadQueue() relies on. */
function receiverOf(transport: ClientTransport): { _buffers: Buffer[] } {
  assert.ok(transport instanceof WebSocket, 'the transport is the WebSocket');
  const { _receiver: receiver } = transport as unknown as { _receiver: { _buffers: Buffer[] } };
  assert.ok(Array.isArray(receiver._buffers), "ws's Receiver still queues chunks in _buffers");
  return receiver;
}

/** A sink that only collects the transports opened. */
function collectingSink(transports: ClientTransport[]): ClientSink {
  return {
    canAccept: () => true,
    opened: (transport): ClientHandle => {
      transports.push(transport);
      return { id: `c${transports.length}` };
    },
    checkUpgrade: () => undefined,
    upgraded: () => {},
    message: () => {},
    alive: () => {},
    pinged: () => {},
    closed: () => {},
    rejectedUpgrade: () => {},
    rejected: () => {},
  };
}

describe('WebSocket listener', () => {
  it('sends small messages as whole frames of its own and larger ones through ws, in order, text and binary, to a strict client', async () => {
    const transports: ClientTransport[] = [];
    const server = createServer();
    attachWebSocketListener(server, collectingSink(transports), { maxPayload: 1024, allowedOrigins: [] });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    try {
      const received: Array<{ data: Buffer; binary: boolean }> = [];
      client.on('message', (data: Buffer, binary: boolean) => received.push({ data, binary }));
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      await once(client, 'open');
      // The client offered permessage-deflate (ws's default); the listener never takes it, so ws's sender never
      // holds frames back to compress them, which the frames written past it rely on.
      assert.equal(client.extensions, '');
      await waitFor('the client opened on the gateway', () => transports.length === 1, 5000, 10);
      const transport = transports[0]!;
      // Both sides of each length boundary of the header (125/126), of SMALL_FRAME_PAYLOAD, and of 16-bit lengths.
      const sizes = [0, 1, 125, 126, 127, SMALL_FRAME_PAYLOAD - 1, SMALL_FRAME_PAYLOAD, SMALL_FRAME_PAYLOAD + 1, 65535, 65536, 70000];
      const sent = sizes.flatMap((size, i) => [
        { data: Buffer.alloc(size, 'a'.charCodeAt(0) + (i % 26)), binary: false },
        { data: Buffer.alloc(size, i), binary: true },
      ]);
      let bufferedAfterSends = 0;
      for (const [i, message] of sent.entries()) {
        transport.sendMessage(message.data, message.binary);
        if (i === 3) transport.heartbeat(undefined); // a ws-written ping among ours keeps its place
        bufferedAfterSends = Math.max(bufferedAfterSends, transport.bufferedBytes);
      }
      assert.ok(bufferedAfterSends >= SMALL_FRAME_PAYLOAD, `what is queued counts in bufferedBytes (saw ${bufferedAfterSends})`);
      await waitFor('every message', () => received.length === sent.length || errors.length > 0, 5000, 10);
      assert.deepEqual(errors, []);
      assert.deepEqual(received.map((m) => [m.data.length, m.binary]), sent.map((m) => [m.data.length, m.binary]));
      for (const [i, message] of sent.entries()) assert.ok(received[i]!.data.equals(message.data), `message ${i} arrived as sent`);
      // Closing: what is sent afterwards goes nowhere (as ws's own send after close), and nothing throws.
      transport.closeWith({ code: 1000, reason: 'bye' });
      transport.sendMessage(Buffer.from('late'), false);
      const [code] = await once(client, 'close');
      assert.equal(code, 1000);
      assert.equal(received.length, sent.length);
    } finally {
      client.terminate();
      server.closeAllConnections();
      server.close();
    }
  });


  it("swaps ws's read queue for a new one once a pong is read, so an idle client keeps no room for chunks", async () => {
    const transports: ClientTransport[] = [];
    let pongs = 0;
    const pings: Buffer[] = [];
    const sink: ClientSink = {
      canAccept: () => true,
      opened: (transport): ClientHandle => {
        transports.push(transport);
        return { id: 'c1' };
      },
      checkUpgrade: () => undefined,
      upgraded: () => {},
      message: () => {},
      alive: () => void pongs++,
      pinged: (_handle, data) => void pings.push(data),
      closed: () => {},
      rejectedUpgrade: () => {},
      rejected: () => {},
    };
    const server = createServer();
    attachWebSocketListener(server, sink, { maxPayload: 1024, allowedOrigins: [] });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    try {
      await once(client, 'open');
      await waitFor('the client opened on the gateway', () => transports.length === 1, 5000, 10);
      const transport = transports[0]!;
      const before = receiverOf(transport)._buffers;
      transport.heartbeat(undefined);
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
    } finally {
      client.terminate();
      server.closeAllConnections();
      server.close();
    }
  });
});
