import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Role } from './types.js';

/** Challenge-response on the shared secret: each side proves it holds the secret over the whole handshake. */
export const NONCE_BYTES = 32;
/**
 * 3: proofs bind both roles, the dialed address and the TLS session, so a handshake cannot be relayed.
 * (2: workers acknowledge events, gateways redeliver unacknowledged ones.)
 */
export const PROTOCOL_VERSION = 3;
/** A Hello feature: this worker's handler decides WebSocket upgrades (it has onWebSocketConnect). */
export const FEATURE_UPGRADE_VERDICTS = 'upgrade-verdicts';
/** A Hello feature: this worker takes SessionUpdate envelopes and runs events with the newest session it has seen. */
export const FEATURE_SESSION_UPDATES = 'session-updates';
/** A Hello feature: this Gateway API client merges a reply sent as pages (Reply.partial), so none needs to fit a frame. */
export const FEATURE_PAGED_REPLIES = 'paged-replies';

/** Everything both ends of one handshake must agree on; a proof covers all of it. */
export interface Transcript {
  dialerRole: Role;
  listenerRole: Role;
  /** The address the dialer dialed, as it sent it in Hello. */
  target: string;
  dialerNonce: Uint8Array;
  listenerNonce: Uint8Array;
  /** Keying material exported from the TLS session the handshake runs in; empty on plain TCP. */
  channelBinding: Uint8Array;
}

/** Different labels, so that neither side's proof can ever stand for the other's. */
const LISTENER_LABEL = 'gwc-v3 listener proof';
const DIALER_LABEL = 'gwc-v3 dialer proof';
/** RFC 5705 / 8446 exporter label of the TLS channel binding. */
const EXPORTER_LABEL = 'EXPORTER-gwc-peer-handshake';
const CHANNEL_BINDING_BYTES = 32;
const NO_CHANNEL_BINDING = Buffer.alloc(0);
const NO_CONTEXT = Buffer.alloc(0);

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The proof the listener sends in Challenge. */
export function listenerProof(secret: Buffer, transcript: Transcript): Buffer {
  return proof(secret, LISTENER_LABEL, transcript);
}

/** The proof the dialer sends in Auth. */
export function dialerProof(secret: Buffer, transcript: Transcript): Buffer {
  return proof(secret, DIALER_LABEL, transcript);
}

export function proofsMatch(expected: Buffer, received: Uint8Array | undefined): boolean {
  return received !== undefined && received.length === expected.length && timingSafeEqual(expected, received);
}

/**
 * Keying material of the TLS session under `socket`, identical on both of its ends and on no other connection, or
 * nothing on plain TCP. Someone relaying the handshake between two TLS connections of its own gets two different values.
 */
export function channelBindingOf(socket: Socket): Buffer {
  const tls = socket as Partial<TLSSocket>;
  if (tls.encrypted !== true || typeof tls.exportKeyingMaterial !== 'function') return NO_CHANNEL_BINDING;
  return tls.exportKeyingMaterial(CHANNEL_BINDING_BYTES, EXPORTER_LABEL, NO_CONTEXT);
}

/** HMAC over the label and every field, each variable-length one prefixed with its length, so no two transcripts encode alike. */
function proof(secret: Buffer, label: string, t: Transcript): Buffer {
  const hmac = createHmac('sha256', secret).update(label);
  const numbers = Buffer.alloc(12);
  numbers.writeUInt32BE(PROTOCOL_VERSION, 0);
  numbers.writeUInt32BE(t.dialerRole, 4);
  numbers.writeUInt32BE(t.listenerRole, 8);
  hmac.update(numbers);
  for (const field of [Buffer.from(t.target, 'utf8'), t.dialerNonce, t.listenerNonce, t.channelBinding]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.length, 0);
    hmac.update(length).update(field);
  }
  return hmac.digest();
}
