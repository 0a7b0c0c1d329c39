import protobuf from 'protobufjs';
import { assetPath } from '../assets.js';
import { FRAME_HEADER_BYTES } from './frame-codec.js';
import type { Envelope, EnvelopeKind } from './types.js';

// uint64 fields (event sequences, counts) stay below 2^53, so they decode as plain numbers rather than a Long
// object each: acknowledgements carry many of them, and this is the hot path.
protobuf.util.Long = null as unknown as typeof protobuf.util.Long;
protobuf.configure();
const root = protobuf.loadSync(assetPath('runtime', 'proto', 'gwc.proto'));
const EnvelopeType = root.lookupType('gwc.Envelope');

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return EnvelopeType.encode(envelope).finish();
}

/** One length-delimited frame (see frame-codec.ts) holding `envelope`, encoded in place: no second buffer and copy. */
export function encodeEnvelopeFrame(envelope: Envelope): Buffer {
  const writer = protobuf.Writer.create().fixed32(0); // room for the length, filled in below
  const frame = EnvelopeType.encode(envelope, writer).finish() as Buffer;
  frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
  return frame;
}

/** Throws on bytes that are not a valid Envelope. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return EnvelopeType.decode(bytes) as unknown as Envelope;
}

/** Which oneof member a decoded Envelope carries, or undefined for an empty one. */
export function envelopeKind(envelope: Envelope): EnvelopeKind | undefined {
  return (envelope as unknown as { body?: EnvelopeKind }).body;
}
