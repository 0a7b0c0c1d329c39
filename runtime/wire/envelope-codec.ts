import protobuf from 'protobufjs';
import { FRAME_HEADER_BYTES } from './frame-codec.js';
import { protoType } from './proto-schema.js';
import type { Envelope, EnvelopeKind } from './types.js';

const EnvelopeType = protoType('Envelope');

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return EnvelopeType.encode(envelope).finish();
}

/** A batch's writer keeps its grown buffer for the next batch, unless it grew past this. */
const KEEP_BUFFER_BYTES = 1024 * 1024;

/**
 * Envelopes encoded one after another into one buffer of frames: one protobufjs writer, reused from batch to
 * batch, rather than a writer and a buffer per envelope. Each frame's length is written once the batch is taken.
 */
export class FrameBatch {
  private writer = protobuf.Writer.create();
  private starts: number[] = [];

  get bytes(): number {
    return this.writer.len;
  }

  get empty(): boolean {
    return this.starts.length === 0;
  }

  add(envelope: Envelope): void {
    this.starts.push(this.writer.len);
    EnvelopeType.encode(envelope, this.writer.fixed32(0));
  }

  /** The frames so far; the batch starts afresh. */
  take(): Buffer {
    const frames = this.writer.finish() as Buffer;
    this.writer.reset();
    if (this.writer.buf.length > KEEP_BUFFER_BYTES) this.writer = protobuf.Writer.create();
    const starts = this.starts;
    this.starts = [];
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const end = i + 1 < starts.length ? starts[i + 1]! : frames.length;
      frames.writeUInt32BE(end - start - FRAME_HEADER_BYTES, start);
    }
    return frames;
  }
}

/** One length-delimited frame (see frame-codec.ts) holding `envelope`. */
export function encodeEnvelopeFrame(envelope: Envelope): Buffer {
  const batch = new FrameBatch();
  batch.add(envelope);
  return batch.take();
}

const WIRE_LENGTH_DELIMITED = 2;
const memberById = new Map(EnvelopeType.fieldsArray.map((field) => [field.id, { name: field.name, type: field.resolve().resolvedType as protobuf.Type }]));

/**
 * Throws on bytes that are not a valid Envelope. The Envelope level (a oneof of sub-messages) is read here and each
 * member with the decoder protobufjs generates for it: protobufjs's own Envelope decoder marks the member through a
 * setter that deletes the fifteen others from every decoded object, which cost a tenth of a worker's CPU in the
 * echo benchmark and left slow dictionary objects. As in proto3, a frame carrying two members decodes to the last
 * one; unknown fields are skipped.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const reader = protobuf.Reader.create(bytes);
  const envelope: Record<string, unknown> = {};
  let kind: string | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const member = memberById.get(tag >>> 3);
    if (member === undefined) {
      reader.skipType(tag & 7);
      continue;
    }
    if ((tag & 7) !== WIRE_LENGTH_DELIMITED) throw new Error(`Envelope.${member.name}: wire type ${tag & 7}, expected ${WIRE_LENGTH_DELIMITED}`);
    if (kind !== undefined && kind !== member.name) delete envelope[kind];
    kind = member.name;
    envelope[kind] = member.type.decode(reader, reader.uint32());
  }
  return envelope as Envelope;
}

/** Which oneof member a decoded Envelope carries, or undefined for an empty one. */
export function envelopeKind(envelope: Envelope): EnvelopeKind | undefined {
  for (const kind in envelope) return kind as EnvelopeKind;
  return undefined;
}
