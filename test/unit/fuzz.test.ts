/** Property-based tests (fast-check) of every decoder that reads bytes from the network, with bounded run counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineSplitter } from '../../runtime/gateway/client-protocols/line-splitter.js';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { encodeFrame, FrameDecoder, FrameError, FRAME_HEADER_BYTES } from '../../runtime/wire/frame-codec.js';

const RUNS = { numRuns: 300 };
const MAX = 256;
// fast-check keeps generated sizes small unless told otherwise; lengths up to the limits are the interesting ones.
fc.configureGlobal({ baseSize: 'xlarge' });

/** Cuts `data` at the given (arbitrary) points. */
function chunked(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const point of [...points, data.length]) {
    chunks.push(data.subarray(previous, point));
    previous = point;
  }
  return chunks;
}

const payloads = fc.array(fc.uint8Array({ maxLength: MAX }), { maxLength: 20 });
const cuts = fc.array(fc.nat(), { maxLength: 30 });
const bytes = fc.uint8Array({ maxLength: 2048 });
/** Hostile streams: random bytes mixed with well-formed headers announcing lengths around the limit, truncated or not. */
const hostileFrames = (includesHeader: boolean) =>
  fc
    .array(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
        fc.tuple(fc.integer({ min: 0, max: 2 * MAX }), fc.uint8Array({ maxLength: 2 * MAX })).map(([length, body]) => {
          const header = Buffer.alloc(FRAME_HEADER_BYTES);
          header.writeUInt32BE(length + (includesHeader ? FRAME_HEADER_BYTES : 0));
          return Buffer.concat([header, Buffer.from(body)]);
        }),
      ),
      { maxLength: 12 },
    )
    .map((parts) => Buffer.concat(parts));

describe('fuzz: frame decoder (internal connections, Workerman frame protocol)', () => {
  for (const includesHeader of [false, true]) {
    it(`gives back exactly the frames sent, however the stream is cut (length ${includesHeader ? 'with' : 'without'} header)`, () => {
      fc.assert(fc.property(payloads, cuts, (messages, cutPoints) => {
        const stream = Buffer.concat(messages.map((m) => encodeFrame(m, includesHeader)));
        const decoder = new FrameDecoder(MAX, includesHeader);
        const out = chunked(stream, cutPoints).flatMap((chunk) => {
          const frames = decoder.push(chunk);
          assert.ok(decoder.bufferedBytes < MAX + FRAME_HEADER_BYTES, `holds ${decoder.bufferedBytes} bytes: more than one frame`);
          return frames;
        });
        assert.deepEqual(out.map((b) => Buffer.from(b).toString('hex')), messages.map((m) => Buffer.from(m).toString('hex')));
        assert.equal(decoder.bufferedBytes, 0);
      }), RUNS);
    });

    it(`on arbitrary bytes only ever throws FrameError and never holds more than one frame (${includesHeader ? 'with' : 'without'} header)`, () => {
      fc.assert(fc.property(fc.oneof(bytes, hostileFrames(includesHeader)), cuts, (data, cutPoints) => {
        const decoder = new FrameDecoder(MAX, includesHeader);
        try {
          for (const chunk of chunked(Buffer.from(data), cutPoints)) {
            decoder.push(chunk);
            assert.ok(decoder.bufferedBytes <= MAX + FRAME_HEADER_BYTES, `buffered ${decoder.bufferedBytes}`);
          }
        } catch (error) {
          assert.ok(error instanceof FrameError, String(error));
        }
      }), RUNS);
    });
  }
});

describe('fuzz: text protocol lines', () => {
  const line = fc.uint8Array({ maxLength: MAX }).map((b) => Buffer.from(b.filter((x) => x !== 0x0a && x !== 0x0d)));

  it('gives back exactly the lines sent, however the stream is cut', () => {
    fc.assert(fc.property(fc.array(line, { maxLength: 20 }), cuts, (lines, cutPoints) => {
      const stream = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      const splitter = new LineSplitter(MAX);
      const out = chunked(stream, cutPoints).flatMap((chunk) => splitter.push(chunk));
      assert.deepEqual(out.map((b) => b.toString('hex')), lines.map((l) => l.toString('hex')));
    }), RUNS);
  });

  it('on arbitrary bytes only ever throws FrameError, and a line over the limit is refused before it is all buffered', () => {
    fc.assert(fc.property(bytes, cuts, (data, cutPoints) => {
      const splitter = new LineSplitter(MAX);
      try {
        for (const chunk of chunked(Buffer.from(data), cutPoints)) {
          for (const message of splitter.push(chunk)) assert.ok(message.length <= MAX);
        }
      } catch (error) {
        assert.ok(error instanceof FrameError, String(error));
      }
    }), RUNS);
  });
});

describe('fuzz: envelope decoding', () => {
  it('arbitrary bytes decode or throw an Error, never anything worse', () => {
    fc.assert(fc.property(bytes, (data) => {
      try {
        decodeEnvelope(data);
      } catch (error) {
        assert.ok(error instanceof Error, `threw ${String(error)}`);
      }
    }), { numRuns: 2000 });
  });

  it('client events and commands survive an encode/decode round trip', () => {
    const hex20 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 20, maxLength: 20 });
    const event = fc.record({
      kind: fc.integer({ min: 0, max: 3 }),
      clientId: hex20,
      body: fc.uint8Array({ maxLength: 64 }),
      binary: fc.boolean(),
      remoteAddress: fc.ipV4(),
      remotePort: fc.integer({ min: 1, max: 65535 }),
      sequence: fc.integer({ min: 1, max: 2 ** 40 }),
    });
    const command = fc.record({
      op: fc.integer({ min: 1, max: 13 }),
      clientIds: fc.array(hex20, { maxLength: 5 }),
      groups: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
      body: fc.uint8Array({ maxLength: 64 }),
      binary: fc.boolean(),
    });
    fc.assert(fc.property(event, command, (e, c) => {
      const decodedEvent = decodeEnvelope(encodeEnvelope({ event: { ...e, body: Buffer.from(e.body) } })).event!;
      assert.equal(decodedEvent.clientId, e.clientId);
      assert.equal(Buffer.from(decodedEvent.body ?? []).toString('hex'), Buffer.from(e.body).toString('hex'));
      assert.equal(Number(decodedEvent.sequence), e.sequence);
      const decodedCommand = decodeEnvelope(encodeEnvelope({ command: { ...c, body: Buffer.from(c.body) } })).command!;
      assert.deepEqual([...(decodedCommand.clientIds ?? [])], c.clientIds);
      assert.deepEqual([...(decodedCommand.groups ?? [])], c.groups);
      assert.equal(decodedCommand.op, c.op);
    }), RUNS);
  });
});
