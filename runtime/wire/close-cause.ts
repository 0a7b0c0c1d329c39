/**
 * Why an internal connection closed: a code from a closed set, for code to decide on, and a detail for people (the
 * text that logs and refusals carry). As ws's error codes: the code says what kind of thing happened, the detail the rest.
 */
export const CLOSE_CODES = {
  STOPPED: 'its owner closed it: the process is stopping, or the link is no longer wanted',
  CLOSED_BY_PEER: 'the peer ended the connection',
  SOCKET_ERROR: 'the socket failed',
  HANDSHAKE_TIMEOUT: 'the handshake did not complete in time',
  BAD_FRAME: 'a frame whose length is malformed or over the limit',
  UNDECODABLE: 'a frame that is not an Envelope',
  UNEXPECTED_MESSAGE: 'a handshake message out of order',
  VERSION_MISMATCH: 'the peer speaks another protocol version',
  ROLE_NOT_ALLOWED: 'a dialer whose role has nothing to send this listener (role-messages.ts)',
  MISDIRECTED: 'the dialer dialed another address than this listener\'s own: relayed or misdirected',
  WRONG_PEER_ROLE: 'the listener reached is not of the role the dialer meant to reach',
  AUTH_FAILED: 'a proof did not match: another secret, or a relayed handshake',
  REFUSED_BY_PEER: 'the peer refused our side of the handshake, and said why',
  NOT_PERMITTED: 'once authenticated, a message the peer\'s role may not send us (role-messages.ts)',
  SILENT: 'nothing received for three heartbeat intervals',
} as const;

export type CloseCode = keyof typeof CLOSE_CODES;

export interface CloseCause {
  readonly code: CloseCode;
  /** What happened, in words. */
  readonly detail: string;
}

export function closeCause(code: CloseCode, detail: string): CloseCause {
  return { code, detail };
}
