/**
 * Thrown from onWebSocketConnect to refuse the upgrade with an HTTP status (for example 401 for a bad token):
 * the client gets that status and `reason` as the response body, and never becomes a WebSocket.
 */
export class RefuseConnection extends Error {
  constructor(
    readonly status = 403,
    readonly reason = '',
  ) {
    super(`connection refused with HTTP ${status}${reason ? `: ${reason}` : ''}`);
    this.name = 'RefuseConnection';
  }
}
