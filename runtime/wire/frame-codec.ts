/**
 * Length-delimited frames: a 4-byte big-endian payload length, then the payload.
 * The decoder is fed socket chunks and yields whole payloads; it never buffers more than one frame.
 */
export const FRAME_HEADER_BYTES = 4;
/** The largest frame a process accepts on internal connections unless configured otherwise (--max-frame-bytes). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class FrameError extends Error {}

export function encodeFrame(payload: Uint8Array, lengthIncludesHeader = false): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length + (lengthIncludesHeader ? FRAME_HEADER_BYTES : 0), 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export class FrameDecoder {
  /** The bytes of a frame that spans reads, in `pending[0..pendingCount)`: the array is kept, not made anew. */
  private readonly pending: Array<Buffer | undefined> = [];
  private pendingCount = 0;
  private pendingBytes = 0;
  /** Bytes needed before parsing is worth trying: avoids re-joining a large frame on every small chunk. */
  private needed = FRAME_HEADER_BYTES;
  /** Where each payload of the current chunk ends, then starts: kept from chunk to chunk, grown when needed. */
  private bounds = new Uint32Array(32);

  /**
   * @param maxFrameBytes largest payload accepted; a larger declared length throws FrameError.
   * @param lengthIncludesHeader Workerman's Frame protocol counts the 4 header bytes in the length; ours does not.
   */
  constructor(
    public maxFrameBytes: number,
    private readonly lengthIncludesHeader = false,
  ) {}

  /** Returns the payloads completed by this chunk. Throws FrameError on an oversized length. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    this.read(chunk, (payload) => frames.push(payload) > 0);
    return frames;
  }

  /**
   * Hands `take` each payload completed by this chunk, in order, while it returns true; no array is made for them.
   * Throws FrameError on an oversized length, as push() does: before any payload of the chunk is handed over.
   */
  read(chunk: Buffer, take: (payload: Buffer) => boolean): void {
    let data = chunk;
    if (this.pendingCount > 0 || chunk.length < this.needed) {
      this.pending[this.pendingCount++] = chunk;
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      data = Buffer.concat(this.pending.slice(0, this.pendingCount) as Buffer[], this.pendingBytes);
      this.pending.fill(undefined, 0, this.pendingCount);
      this.pendingCount = 0;
      this.pendingBytes = 0;
    }
    this.needed = FRAME_HEADER_BYTES;

    let count = 0;
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_BYTES) {
      const declared = data.readUInt32BE(offset);
      const length = this.lengthIncludesHeader ? declared - FRAME_HEADER_BYTES : declared;
      if (length < 0) throw new FrameError(`frame length ${declared} is shorter than its own header`);
      if (length > this.maxFrameBytes) {
        throw new FrameError(`frame of ${length} bytes exceeds the maximum of ${this.maxFrameBytes}`);
      }
      const end = offset + FRAME_HEADER_BYTES + length;
      if (end > data.length) {
        this.needed = end - offset;
        break;
      }
      if (count === this.bounds.length) {
        const grown = new Uint32Array(2 * count);
        grown.set(this.bounds);
        this.bounds = grown;
      }
      this.bounds[count++] = end;
      offset = end;
    }
    if (offset < data.length) {
      this.pending[0] = data.subarray(offset);
      this.pendingCount = 1;
      this.pendingBytes = data.length - offset;
    }
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = this.bounds[i]!;
      if (!take(data.subarray(start + FRAME_HEADER_BYTES, end))) return;
      start = end;
    }
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }
}
