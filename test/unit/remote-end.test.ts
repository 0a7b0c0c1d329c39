import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { readRemoteEnd } from '../../runtime/net/remote-end.js';

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
});
