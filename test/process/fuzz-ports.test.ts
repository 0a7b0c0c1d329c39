/** Property-based: arbitrary bytes thrown at a gateway's client and internal ports and the Register's port. */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CLIENT_PORT, INTERNAL_PORT, REGISTER_PORT, clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';

/** Connects, writes the chunks, and waits until the server closes or 300 ms pass; never fails itself. */
function throwBytes(host: string, port: number, chunks: Uint8Array[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

describe('fuzz: arbitrary bytes on every listening port', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 1 });

  it('leaves every process alive and serving', async () => {
    const gateway = cluster.gatewayIp(0);
    const targets = [
      { host: gateway, port: CLIENT_PORT },
      { host: gateway, port: INTERNAL_PORT },
      { host: cluster.ip(1), port: REGISTER_PORT },
    ];
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 512, size: 'large' }),
      // Plausible beginnings: an HTTP upgrade, a frame header, a protobuf tag.
      fc.constantFrom(
        Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
        Buffer.from([0, 0, 0, 5, 0x0a, 0x03, 0x08, 0x01, 0x12]),
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.array(chunk, { minLength: 1, maxLength: 6 }), async (target, chunks) => {
        await throwBytes(target.host, target.port, chunks);
      }),
      { numRuns: 60 },
    );
    for (const process of cluster.all()) assert.ok(process.alive, `${process.label} survived`);
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    assert.equal(typeof (await client.request<{ clientId: string }>('whoami')).clientId, 'string');
    client.close();
  });
});
