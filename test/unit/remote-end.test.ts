import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { readRemoteEnd, SHARED_ADDRESSES_LIMIT } from '../../runtime/net/remote-end.js';
import { countInHeap } from '../harness/heap-snapshot.js';

/** Node's cache of a socket's remote end, which readRemoteEnd() lets go. */
const peerNameOf = (socket: Socket) => (socket as unknown as { _peername?: object })._peername;

describe('readRemoteEnd', () => {
  it("reads a connection's remote address and port without leaving Node's cache of them on the socket", async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    try {
      await once(client, 'connect');
      const [socket] = await accepted;
      const remote = readRemoteEnd(socket);
      assert.deepEqual(remote, { address: '127.0.0.1', port: client.localPort });
      assert.equal(peerNameOf(socket), undefined, 'nothing of the read is kept on the socket');
      // Node still answers when asked, and (what makes the above worth doing) keeps the answer on the socket.
      assert.equal(socket.remotePort, client.localPort);
      assert.equal(typeof peerNameOf(socket), 'object', 'Node caches a socket\'s remote end in _peername: if not, readRemoteEnd need not let it go');
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('keeps one string of an address that many connections come from, and a bounded number of them', async () => {
    const source = '127.31.41.59'; // not met elsewhere in this process
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const clients: Socket[] = [];
    const sockets: Socket[] = [];
    server.on('connection', (socket: Socket) => sockets.push(socket));
    try {
      for (let i = 0; i < 20; i++) {
        const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', localAddress: source });
        clients.push(client);
        await once(client, 'connect');
      }
      while (sockets.length < clients.length) await once(server, 'connection');
      const ends = sockets.map(readRemoteEnd);
      assert.ok(ends.every((end) => end.address === source));
      // Without sharing, each of the 20 ends holds its own copy (the literal above is one string more).
      assert.ok((await countInHeap('string', source)) <= 2, 'the 20 connections share one address string');
      assert.equal(ends.length, 20);
      // Past the bound, the table starts again rather than growing: it still answers with the address.
      for (let i = 0; i <= SHARED_ADDRESSES_LIMIT; i++) readRemoteEnd({ remoteAddress: `10.0.${i >> 8}.${i & 255}`, remotePort: 1 } as Socket);
      assert.equal(readRemoteEnd(sockets[0]!).address, source);
    } finally {
      for (const client of clients) client.destroy();
      server.close();
    }
  });
});
