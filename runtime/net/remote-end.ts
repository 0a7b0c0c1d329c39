import type { Socket } from 'node:net';

export interface RemoteEnd {
  address: string;
  port: number;
}

/** Where Node keeps what it read of a socket's remote end (net.Socket#_getpeername). */
interface PeerNameCache {
  _peername?: object;
}

/**
 * Address strings already held by a connection, each kept once. Behind a proxy, a NAT or Kubernetes' own source NAT
 * (a Service with externalTrafficPolicy Cluster), many clients arrive from one address; each connection held its own
 * copy of it (32 bytes, of some 3.5 KiB an idle WebSocket costs). Bounded: when full it starts again, so a client
 * port reached from very many addresses costs at most this many strings more.
 */
const addresses = new Map<string, string>();
export const SHARED_ADDRESSES_LIMIT = 1024;

function shared(address: string): string {
  const known = addresses.get(address);
  if (known !== undefined) return known;
  if (addresses.size >= SHARED_ADDRESSES_LIMIT) addresses.clear();
  addresses.set(address, address);
  return address;
}

/**
 * A connection's remote address and port, read once for whoever keeps them. Reading either makes Node keep an object
 * of address, family and port on the socket for the socket's life (56 bytes, of some 3.5 KiB an idle WebSocket
 * costs), and Node has no public way to read them without it: the object is let go again here. Node reads the
 * address anew if asked while the socket is open. Node's own field, checked by test/unit/remote-end.test.ts.
 */
export function readRemoteEnd(socket: Socket): RemoteEnd {
  const remote = { address: shared(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
  (socket as PeerNameCache)._peername = undefined;
  return remote;
}
