import { isIP, type Socket } from 'node:net';
import { connect, createSecureContext, createServer, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from '../observability/log.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../wire/peer-handshake.js';
import type { PeerSockets } from '../wire/peer-sockets.js';
import { reportHandshakeFailures, tlsErrorReason } from './handshake-failures.js';
import type { TlsMaterial } from './tls-material.js';

/**
 * Internal connections over mutual TLS: servers require a client certificate signed by the cluster CA, dialers
 * present theirs and verify the server's chain against the same CA. update() swaps the certificates for every
 * later connection; the connections already up keep theirs.
 */
export class MutualTlsSockets implements PeerSockets {
  private material: TlsMaterial;
  private context: SecureContext;
  private readonly servers = new Set<Server>();

  constructor(
    material: TlsMaterial,
    private readonly log: Logger,
  ) {
    this.material = material;
    this.context = createSecureContext(material);
  }

  update(material: TlsMaterial): void {
    const context = createSecureContext(material);
    for (const server of this.servers) server.setSecureContext(material);
    this.material = material;
    this.context = context;
  }

  createServer(onSocket: (socket: Socket) => void): Server {
    // The client certificate is checked here rather than by rejectUnauthorized: Node's own rejection destroys the
    // socket before reporting it, losing both the peer's address and the reason.
    const server = createServer({ ...this.material, requestCert: true, rejectUnauthorized: false, handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS }, (socket) => {
      if (socket.authorized) return onSocket(socket);
      this.refused(String(socket.authorizationError), `${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
    });
    reportHandshakeFailures(server, (reason, remote) => this.refused(reason, remote));
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
    return server;
  }

  connect(host: string, port: number): TLSSocket {
    const socket = connect({
      host,
      port,
      secureContext: this.context,
      // Pods dial each other by IP or by Service name, which a cluster certificate cannot be expected to list: the
      // chain is verified against the cluster CA, the name is not. The shared-secret handshake still runs on top.
      checkServerIdentity: () => undefined,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    // Writes made before the handshake completes (the Hello) are held by the TLS socket until it is secure.
    this.reportFailure(socket, `${host}:${port}`);
    return socket;
  }

  private refused(reason: string, remote: string): void {
    this.log.warn('internal TLS connection refused', { logEvent: 'tls-peer-refused', remote, error: reason });
  }

  /**
   * Logs an attempt that reached the server but failed its TLS part: a failed handshake, or a server that hangs up as
   * soon as the handshake is done, which is how a server refuses a client certificate it does not trust.
   */
  private reportFailure(socket: TLSSocket, address: string): void {
    let stage: 'connecting' | 'handshake' | 'secure' | 'answered' = 'connecting';
    let error: string | undefined;
    socket.once('connect', () => (stage = 'handshake'));
    socket.once('secureConnect', () => (stage = 'secure'));
    socket.once('data', () => (stage = 'answered'));
    socket.on('error', (failure) => (error ??= tlsErrorReason(failure)));
    socket.once('close', () => {
      if (stage === 'handshake') this.log.warn('internal TLS connection failed', { logEvent: 'tls-connection-failed', address, error: error ?? 'closed during the handshake' });
      if (stage === 'secure') {
        this.log.warn('internal TLS connection failed', { logEvent: 'tls-connection-failed', address, error: error ?? 'closed by the server after the handshake: does it trust this certificate?' });
      }
    });
  }
}
