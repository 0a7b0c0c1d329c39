import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Challenge-response on the shared secret: each side proves it holds the secret over both nonces. */
export const NONCE_BYTES = 32;
/** 2: workers acknowledge events (EventAck), gateways redeliver unacknowledged ones. */
export const PROTOCOL_VERSION = 2;
/** A Hello feature: this worker's handler decides WebSocket upgrades (it has onWebSocketConnect). */
export const FEATURE_UPGRADE_VERDICTS = 'upgrade-verdicts';

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** The accepting side's proof; a different label from the client's so one can never stand for the other. */
export function serverProof(secret: Buffer, clientNonce: Uint8Array, serverNonce: Uint8Array): Buffer {
  return proof(secret, 'gwc-server-v1', clientNonce, serverNonce);
}

export function clientProof(secret: Buffer, clientNonce: Uint8Array, serverNonce: Uint8Array): Buffer {
  return proof(secret, 'gwc-client-v1', clientNonce, serverNonce);
}

export function proofsMatch(expected: Buffer, received: Uint8Array | undefined): boolean {
  return received !== undefined && received.length === expected.length && timingSafeEqual(expected, received);
}

function proof(secret: Buffer, label: string, clientNonce: Uint8Array, serverNonce: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(label).update(clientNonce).update(serverNonce).digest();
}
