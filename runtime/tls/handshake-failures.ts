import type { Server } from 'node:tls';

/** OpenSSL's short reason ("wrong version number", "http request") rather than its long error string. */
export function tlsErrorReason(error: Error & { reason?: string }): string {
  return error.reason ?? OPENSSL_REASON.exec(error.message)?.[1] ?? error.message;
}

/** "…error:0A00010B:SSL routines:ssl3_get_record:wrong version number:…" (an EPROTO from a write has no .reason). */
const OPENSSL_REASON = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/;

/**
 * Reports each failed TLS handshake on `server` (a plaintext client, no certificate, a protocol mismatch), except a
 * peer that just hung up: load balancer health checks and port probes connect and leave without a handshake.
 */
export function reportHandshakeFailures(server: Server, report: (reason: string, remote: string) => void): void {
  server.on('tlsClientError', (error: NodeJS.ErrnoException & { reason?: string }, socket) => {
    if (error.code === 'ECONNRESET') return;
    report(tlsErrorReason(error), `${socket.remoteAddress}:${socket.remotePort}`);
  });
}
