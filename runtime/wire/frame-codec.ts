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
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed before parsing is worth trying: avoids re-joining a large frame on every small chunk. */
  private needed = FRAME_HEADER_BYTES;

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
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return [];
    const data = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = FRAME_HEADER_BYTES;

    const frames: Buffer[] = [];
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
      frames.push(data.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
    return frames;
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }
}
