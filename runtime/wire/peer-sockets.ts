import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * How the sockets of internal links (the Register, a gateway's internal port, and whoever dials them) are accepted and
 * opened: plain TCP (plainSockets), or mutual TLS (tls/mutual-tls-sockets.ts). Not to be confused with a gateway's
 * ClientTransport, which is a client connection's protocol (WebSocket, text, frame).
 */
export interface PeerSockets {
  /** A server handing each accepted connection, ready for a PeerConnection, to `onSocket`. */
  createServer(onSocket: (socket: Socket) => void): Server;
  connect(host: string, port: number): Socket;
}

export const plainSockets: PeerSockets = {
  createServer: (onSocket) => createServer(onSocket),
  connect: (host, port) => connect({ host, port }),
};
