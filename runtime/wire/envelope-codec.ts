import protobuf from 'protobufjs';
import { assetPath } from '../assets.js';
import type { Envelope, EnvelopeKind } from './types.js';

const root = protobuf.loadSync(assetPath('runtime', 'proto', 'gwc.proto'));
const EnvelopeType = root.lookupType('gwc.Envelope');

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return EnvelopeType.encode(envelope).finish();
}

/** Throws on bytes that are not a valid Envelope. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return EnvelopeType.decode(bytes) as unknown as Envelope;
}

/** Which oneof member a decoded Envelope carries, or undefined for an empty one. */
export function envelopeKind(envelope: Envelope): EnvelopeKind | undefined {
  return (envelope as unknown as { body?: EnvelopeKind }).body;
}
