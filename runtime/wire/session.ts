/**
 * A client's session as the protocol has it: a JSON object, carried as its UTF-8 bytes (ClientEvent.session,
 * Command.session, ClientInfo.session), no bytes for a client that has none; UPDATE_SESSION merges at its top level.
 * The gateway stores and merges sessions, the worker and the Gateway API client read them: all by these.
 */
export type Session = Record<string, unknown>;

/** The session of a client that has none, as it travels: no bytes. */
export const EMPTY_SESSION: Buffer = Buffer.alloc(0);
/** The same as text. */
export const EMPTY_SESSION_TEXT = EMPTY_SESSION.toString('utf8');

/** The session held in `json` (bytes or their text); nothing is an empty session. */
export function parseSession(json: Uint8Array | string | undefined): Session {
  if (json === undefined || json.length === 0) return {};
  const text = typeof json === 'string' ? json : bytesAsBuffer(json).toString('utf8');
  return JSON.parse(text) as Session;
}

/**
 * UPDATE_SESSION's rule, a merge at the top level: each key in `set` replaces that key's value, then the `removed`
 * keys go. The gateway merges by it; a worker, writing back what a callback did, reckons the result by it too.
 */
export function mergeSession(session: Session, set: Session, removed: readonly string[] = []): Session {
  const merged: Session = { ...session, ...set };
  for (const key of removed) delete merged[key];
  return merged;
}

function bytesAsBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
