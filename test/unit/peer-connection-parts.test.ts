/** The parts a PeerConnection is made of, without sockets: its reader (frames, decoding, role admission) and liveness. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CloseCause } from '../../runtime/wire/close-cause.js';
import { encodeEnvelopeFrame } from '../../runtime/wire/envelope-codec.js';
import { EnvelopeReader } from '../../runtime/wire/envelope-reader.js';
import { Liveness } from '../../runtime/wire/liveness.js';
import { Op, Role, type Envelope } from '../../runtime/wire/types.js';

function readAll(reader: EnvelopeReader, ...chunks: Buffer[]): { envelopes: Envelope[]; cause: CloseCause | undefined } {
  const envelopes: Envelope[] = [];
  let cause: CloseCause | undefined;
  const take = (envelope: Envelope) => {
    envelopes.push(envelope);
    return true;
  };
  for (const chunk of chunks) cause ??= reader.read(chunk, take);
  return { envelopes, cause };
}

describe('the envelope reader of a connection', () => {
  it('hands everything to the handshake until it is authenticated, then only what the peer\'s role may send, without heartbeats', () => {
    const reader = new EnvelopeReader();
    assert.equal(readAll(reader, encodeEnvelopeFrame({ command: { op: Op.SendToAll } })).envelopes.length, 1, 'the handshake sees anything');
    reader.authenticated(Role.Worker, Role.Gateway, 1 << 20);
    const { envelopes, cause } = readAll(reader, Buffer.concat([encodeEnvelopeFrame({ heartbeat: {} }), encodeEnvelopeFrame({ ack: { sequences: [1] } })]));
    assert.equal(cause, undefined);
    assert.deepEqual(envelopes.map((envelope) => Object.keys(envelope)), [['ack']]);
    const refused = readAll(reader, encodeEnvelopeFrame({ event: { clientId: 'x' } })).cause;
    assert.deepEqual(refused, { code: 'NOT_PERMITTED', detail: 'unexpected event from a Worker (to a Gateway)' });
  });

  it('takes frames up to 1 KiB before authentication and the configured limit after', () => {
    const large = encodeEnvelopeFrame({ command: { op: Op.SendToAll, body: Buffer.alloc(4096) } });
    assert.equal(readAll(new EnvelopeReader(), large).cause?.code, 'BAD_FRAME');
    const reader = new EnvelopeReader();
    reader.authenticated(Role.Worker, Role.Gateway, 8192);
    assert.equal(readAll(reader, large).envelopes.length, 1);
  });

  it('stops at the envelope after which its taker says stop', () => {
    const reader = new EnvelopeReader();
    const seen: Envelope[] = [];
    const frames = Buffer.concat([encodeEnvelopeFrame({ hello: {} }), encodeEnvelopeFrame({ auth: {} })]);
    assert.equal(reader.read(frames, (envelope) => (seen.push(envelope), false)), undefined);
    assert.equal(seen.length, 1);
  });

  it('hands nothing of a chunk whose frames include an oversized one, as the bytes before it came with it', () => {
    const reader = new EnvelopeReader();
    reader.authenticated(Role.Worker, Role.Gateway, 64);
    const oversized = encodeEnvelopeFrame({ command: { op: Op.SendToAll, body: Buffer.alloc(100) } });
    const { envelopes, cause } = readAll(reader, Buffer.concat([encodeEnvelopeFrame({ ack: { sequences: [1] } }), oversized]));
    assert.equal(cause?.code, 'BAD_FRAME');
    assert.equal(envelopes.length, 0);
  });

  it('reads envelopes however the bytes are cut: many in one chunk, and frames spanning chunks', () => {
    const sent = Array.from({ length: 100 }, (_, i) => ({ ack: { sequences: Array.from({ length: i % 7 }, (_, j) => i * 10 + j) } }));
    const stream = Buffer.concat(sent.map((envelope) => encodeEnvelopeFrame(envelope)));
    for (const size of [1, 3, 5, 17, 64, stream.length]) {
      const reader = new EnvelopeReader();
      reader.authenticated(Role.Worker, Role.Gateway, 1 << 20);
      const chunks = Array.from({ length: Math.ceil(stream.length / size) }, (_, i) => stream.subarray(i * size, (i + 1) * size));
      const { envelopes, cause } = readAll(reader, ...chunks);
      assert.equal(cause, undefined);
      assert.deepEqual(
        envelopes.map((envelope) => (envelope.ack?.sequences ?? []).map(Number)),
        sent.map((envelope) => envelope.ack.sequences),
        `chunks of ${size} bytes`,
      );
    }
  });

  it('names an undecodable frame', () => {
    assert.equal(readAll(new EnvelopeReader(), Buffer.from([0, 0, 0, 3, 0x0a, 0x05, 0x01])).cause?.code, 'UNDECODABLE');
  });
});

describe('liveness', () => {
  it('takes a peer silent for three intervals for gone, and not before', () => {
    const silences: CloseCause[] = [];
    const liveness = new Liveness(1000, { lastSent: () => 0, sendHeartbeat: () => {}, silent: (cause) => silences.push(cause) });
    const start = Date.now();
    assert.equal(liveness.check(start + 2000), true);
    assert.equal(liveness.check(start + 3100), false);
    assert.deepEqual(silences.map((cause) => cause.code), ['SILENT']);
    liveness.received();
    assert.equal(liveness.check(Date.now() + 2000), true);
  });
});
