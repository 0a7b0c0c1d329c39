import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_HEADER_BYTES, FrameDecoder, FrameError, encodeFrame } from '../../runtime/wire/frame-codec.js';

/** Deterministic PRNG (mulberry32) so a failing random chunking can be reproduced from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Payloads of assorted sizes, including empty ones, each with distinguishable content. */
function samplePayloads(): Buffer[] {
  const sizes = [0, 1, 2, 3, 4, 5, 0, 17, 255, 256, 1000, 0, 4096, 3];
  return sizes.map((size, index) => {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + index * 7) & 0xff;
    return payload;
  });
}

function feed(decoder: FrameDecoder, stream: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    out.push(...decoder.push(stream.subarray(start, cut)));
    start = cut;
  }
  return out;
}

function assertSamePayloads(actual: Buffer[], expected: Buffer[]): void {
  assert.equal(actual.length, expected.length, 'number of frames');
  actual.forEach((payload, i) => assert.ok(payload.equals(expected[i]!), `payload ${i} differs`));
}

for (const lengthIncludesHeader of [false, true]) {
  const variant = lengthIncludesHeader ? 'Workerman (length includes header)' : 'GatewayCluster (length excludes header)';

  describe(`frame codec, ${variant}`, () => {
    const payloads = samplePayloads();
    const stream = Buffer.concat(payloads.map((payload) => encodeFrame(payload, lengthIncludesHeader)));

    it('writes the declared length the variant expects', () => {
      const frame = encodeFrame(Buffer.from('abc'), lengthIncludesHeader);
      assert.equal(frame.length, FRAME_HEADER_BYTES + 3);
      assert.equal(frame.readUInt32BE(0), lengthIncludesHeader ? 7 : 3);
      assert.equal(frame.subarray(FRAME_HEADER_BYTES).toString(), 'abc');
    });

    it('round-trips many frames delivered in one chunk', () => {
      const decoder = new FrameDecoder(1 << 20, lengthIncludesHeader);
      assertSamePayloads(decoder.push(stream), payloads);
      assert.equal(decoder.bufferedBytes, 0);
    });

    it('round-trips when fed one byte at a time', () => {
      const decoder = new FrameDecoder(1 << 20, lengthIncludesHeader);
      const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
      assertSamePayloads(feed(decoder, stream, cuts), payloads);
      assert.equal(decoder.bufferedBytes, 0);
    });

    it('round-trips when split into two at every possible byte boundary', () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        const decoder = new FrameDecoder(1 << 20, lengthIncludesHeader);
        assertSamePayloads(feed(decoder, stream, [cut]), payloads);
      }
    });

    it('round-trips random chunkings', () => {
      for (let seed = 1; seed <= 200; seed++) {
        const random = prng(seed);
        const cuts: number[] = [];
        for (let at = 0; at < stream.length; ) {
          at += 1 + Math.floor(random() * 40);
          if (at < stream.length) cuts.push(at);
        }
        const decoder = new FrameDecoder(1 << 20, lengthIncludesHeader);
        const decoded = feed(decoder, stream, cuts);
        assert.equal(decoded.length, payloads.length, `seed ${seed}`);
        decoded.forEach((payload, i) => assert.ok(payload.equals(payloads[i]!), `seed ${seed}: payload ${i} differs`));
      }
    });

    it('returns nothing until a frame is complete and keeps the partial bytes', () => {
      const decoder = new FrameDecoder(1024, lengthIncludesHeader);
      const frame = encodeFrame(Buffer.from('hello'), lengthIncludesHeader);
      assert.deepEqual(decoder.push(frame.subarray(0, 2)), []);
      assert.deepEqual(decoder.push(frame.subarray(2, 6)), []);
      assert.equal(decoder.bufferedBytes, 6);
      const done = decoder.push(frame.subarray(6));
      assert.equal(done.length, 1);
      assert.equal(done[0]!.toString(), 'hello');
      assert.equal(decoder.bufferedBytes, 0);
    });

    it('decodes empty payloads, alone and between others', () => {
      const decoder = new FrameDecoder(16, lengthIncludesHeader);
      const empty = encodeFrame(Buffer.alloc(0), lengthIncludesHeader);
      assert.equal(empty.length, FRAME_HEADER_BYTES);
      const decoded = decoder.push(Buffer.concat([empty, encodeFrame(Buffer.from('x'), lengthIncludesHeader), empty]));
      assert.deepEqual(decoded.map((payload) => payload.toString()), ['', 'x', '']);
    });

    it('accepts a payload of exactly the maximum', () => {
      const decoder = new FrameDecoder(8, lengthIncludesHeader);
      const decoded = decoder.push(encodeFrame(Buffer.from('12345678'), lengthIncludesHeader));
      assert.equal(decoded[0]!.toString(), '12345678');
    });

    it('throws FrameError on an oversized length as soon as the header arrives', () => {
      const decoder = new FrameDecoder(8, lengthIncludesHeader);
      const header = encodeFrame(Buffer.alloc(9), lengthIncludesHeader).subarray(0, FRAME_HEADER_BYTES);
      assert.deepEqual(decoder.push(header.subarray(0, 3)), []);
      // The fourth header byte completes the length; no body byte has been sent.
      assert.throws(() => decoder.push(header.subarray(3)), FrameError);
    });

    it('throws FrameError on an oversized frame that follows good frames in the same chunk', () => {
      const decoder = new FrameDecoder(8, lengthIncludesHeader);
      const oversizedHeader = encodeFrame(Buffer.alloc(4096), lengthIncludesHeader).subarray(0, FRAME_HEADER_BYTES);
      const chunk = Buffer.concat([encodeFrame(Buffer.from('ok'), lengthIncludesHeader), oversizedHeader]);
      assert.throws(() => decoder.push(chunk), /exceeds the maximum of 8/);
    });

    it('throws FrameError on a 0xFFFFFFFF length', () => {
      const decoder = new FrameDecoder(1 << 20, lengthIncludesHeader);
      assert.throws(() => decoder.push(Buffer.from([0xff, 0xff, 0xff, 0xff])), FrameError);
    });
  });
}

describe('frame codec, Workerman variant specifics', () => {
  for (const declared of [0, 1, 2, 3]) {
    it(`rejects a declared length of ${declared}, shorter than the header itself`, () => {
      const decoder = new FrameDecoder(1024, true);
      const header = Buffer.alloc(FRAME_HEADER_BYTES);
      header.writeUInt32BE(declared, 0);
      assert.throws(() => decoder.push(header), (error: unknown) => error instanceof FrameError && /shorter than its own header/.test(error.message));
    });
  }

  it('reads a declared length of 4 as an empty payload', () => {
    const decoder = new FrameDecoder(1024, true);
    const decoded = decoder.push(Buffer.from([0, 0, 0, 4]));
    assert.equal(decoded.length, 1);
    assert.equal(decoded[0]!.length, 0);
  });
});
