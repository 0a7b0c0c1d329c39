import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { assetPath } from '../../runtime/assets.js';
import { FrameBatch, decodeEnvelope, encodeEnvelope, envelopeKind } from '../../runtime/wire/envelope-codec.js';
import { FrameDecoder } from '../../runtime/wire/frame-codec.js';
import { EventKind, Op, type Envelope } from '../../runtime/wire/types.js';

/** protobufjs's own reading of gwc.proto, as the reference for what our Envelope level must agree with. */
const reference = protobuf.loadSync(assetPath('runtime', 'proto', 'gwc.proto')).lookupType('gwc.Envelope');

const event: Envelope = {
  event: { kind: EventKind.Message, clientId: '7f00000a0b5400000001', sequence: 1_764_612_345_678_001, remoteAddress: '127.0.0.9', remotePort: 40_001, body: Buffer.from('hello') },
};
const command: Envelope = { command: { op: Op.SendToClient, clientIds: ['7f00000a0b5400000001'], body: Buffer.from('hi') } };

function framesOf(bytes: Buffer): Buffer[] {
  return new FrameDecoder(16 * 1024 * 1024).push(bytes);
}

describe('envelope decoding', () => {
  it('reads what protobufjs writes, member and fields alike', () => {
    for (const envelope of [event, command, { ack: { sequences: [1, 2, 2 ** 52] } }, { heartbeat: {} }, { drain: {} }]) {
      const bytes = reference.encode(envelope).finish();
      const decoded = decodeEnvelope(bytes);
      assert.equal(envelopeKind(decoded), Object.keys(envelope)[0]);
      assert.deepEqual(Buffer.from(reference.encode(decoded).finish()), Buffer.from(bytes), 'written again, the same bytes');
    }
  });

  it('gives a frame carrying two members the last one only, as proto3 does', () => {
    const both = Buffer.concat([encodeEnvelope(event), encodeEnvelope(command)]);
    const decoded = decodeEnvelope(both);
    assert.equal(envelopeKind(decoded), 'command');
    assert.equal(decoded.event, undefined);
    assert.deepEqual(Object.keys(decoded), ['command']);
  });

  it('skips unknown fields and keeps the member', () => {
    const unknownVarint = Buffer.from([0x98, 0x06, 0x2a]); // field 99 as a varint: 42
    const decoded = decodeEnvelope(Buffer.concat([unknownVarint, encodeEnvelope(command)]));
    assert.equal(envelopeKind(decoded), 'command');
    assert.deepEqual(decoded.command?.clientIds, ['7f00000a0b5400000001']);
  });

  it('refuses a known member sent with another wire type, naming it', () => {
    // Field 21 (command) as a varint instead of a length-delimited sub-message.
    assert.throws(() => decodeEnvelope(Buffer.from([(21 << 3) | 0, 0x01])), /Envelope\.command: wire type 0/);
  });

  it('decodes an empty frame to an envelope without a member', () => {
    assert.equal(envelopeKind(decodeEnvelope(Buffer.alloc(0))), undefined);
  });
});

describe('a batch of frames', () => {
  it('holds each envelope in its own frame, in order, with correct lengths', () => {
    const batch = new FrameBatch();
    assert.ok(batch.empty);
    const envelopes: Envelope[] = [event, command, { heartbeat: {} }, { ack: { sequences: [7, 8] } }];
    for (const envelope of envelopes) batch.add(envelope);
    assert.ok(!batch.empty);
    const bytes = batch.take();
    assert.equal(bytes.length, envelopes.reduce((sum, envelope) => sum + 4 + encodeEnvelope(envelope).length, 0));
    assert.deepEqual(framesOf(bytes).map((frame) => envelopeKind(decodeEnvelope(frame))), ['event', 'command', 'heartbeat', 'ack']);
    assert.ok(batch.empty);
    assert.equal(batch.bytes, 0);
  });

  it('starts afresh after take(): what was taken is neither repeated nor overwritten', () => {
    const batch = new FrameBatch();
    batch.add(event);
    const first = batch.take();
    const copy = Buffer.from(first);
    batch.add(command);
    const second = batch.take();
    assert.deepEqual(first, copy, 'the first batch is a buffer of its own');
    assert.deepEqual(framesOf(second).map((frame) => envelopeKind(decodeEnvelope(frame))), ['command']);
  });

  it('still works after a batch far larger than the buffer it keeps', () => {
    const batch = new FrameBatch();
    batch.add({ command: { op: Op.SendToAll, body: Buffer.alloc(3 * 1024 * 1024, 1) } });
    const big = framesOf(batch.take());
    assert.equal(decodeEnvelope(big[0]!).command?.body?.length, 3 * 1024 * 1024);
    batch.add(event);
    assert.deepEqual(framesOf(batch.take()).map((frame) => decodeEnvelope(frame).event?.clientId), ['7f00000a0b5400000001']);
  });
});
