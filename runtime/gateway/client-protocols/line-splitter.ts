import { FrameError } from '../../wire/frame-codec.js';

const NEWLINE = 0x0a;

/** Splits a client's byte stream into messages; throws FrameError for one over the size limit. */
export interface MessageSplitter {
  push(chunk: Buffer): Buffer[];
}

/** Newline-terminated text, Workerman's Text protocol: one message per line, a trailing \r dropped. */
export class LineSplitter implements MessageSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      let line = chunk.subarray(start, newline);
      if (this.partialBytes > 0) {
        line = Buffer.concat([...this.partial, line]);
        this.partial = [];
        this.partialBytes = 0;
      }
      if (line.length > this.maxPayload) throw new FrameError(`line of ${line.length} bytes exceeds the maximum of ${this.maxPayload}`);
      lines.push(line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > this.maxPayload) {
        throw new FrameError(`line longer than the maximum of ${this.maxPayload} bytes`);
      }
    }
    return lines;
  }
}
