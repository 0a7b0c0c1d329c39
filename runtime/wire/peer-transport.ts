import { connect, createServer, type Server, type Socket } from 'node:net';

/** How internal connections (Register, gateway internal port, their dialers) are made: plain TCP, or mutual TLS. */
export interface PeerTransport {
  /** A server handing each accepted connection, ready for a PeerConnection, to `onSocket`. */
  createServer(onSocket: (socket: Socket) => void): Server;
  connect(host: string, port: number): Socket;
}

export const plainTransport: PeerTransport = {
  createServer: (onSocket) => createServer(onSocket),
  connect: (host, port) => connect({ host, port }),
};
