import type { Socket } from 'node:net';
import { FrameBatch, encodeEnvelopeFrame } from './envelope-codec.js';
import type { Envelope } from './types.js';

/** A batch this large goes out at once, so the peer can start on it while we keep producing. */
const FLUSH_AT_BYTES = 32 * 1024;

/** whenDrained() waits only when more than this is queued. */
const DRAINED_BELOW_BYTES = 1024 * 1024;
const RESOLVED = Promise.resolve();

/**
 * Envelopes on their way to one socket: batched into one write per event-loop turn (or sooner once a batch is large),
 * with backpressure for producers that await whenDrained().
 */
export class Outbox {
  /** When a batch last went out: a connection idle this long sends a heartbeat. */
  lastSent = Date.now();
  private readonly batch = new FrameBatch();
  private flushScheduled = false;
  private drained: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {}

  /** Bytes queued but not yet taken by the kernel: the basis for flow control. */
  get pendingBytes(): number {
    return this.batch.bytes + this.socket.writableLength;
  }

  add(envelope: Envelope): void {
    this.batch.add(envelope);
    if (this.batch.bytes >= FLUSH_AT_BYTES) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Written now, ahead of any batch: the handshake's messages. */
  writeNow(envelope: Envelope): void {
    this.socket.write(encodeEnvelopeFrame(envelope));
  }

  flush(): void {
    if (this.batch.empty || this.socket.destroyed) return;
    this.lastSent = Date.now();
    this.socket.write(this.batch.take());
  }

  /** Resolves once the socket has taken what is queued (at once when little is): lets a producer slow down. */
  whenDrained(): Promise<void> {
    if (this.pendingBytes <= DRAINED_BELOW_BYTES || this.closed) return RESOLVED;
    this.flush();
    // One promise for every waiter, so a thousand awaiting handlers add one listener, not a thousand.
    this.drained ??= new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.drained = undefined;
        this.release = undefined;
        resolve();
      };
      this.release = done;
      this.socket.on('drain', done);
    });
    return this.drained;
  }

  /** Nothing more goes out; whoever waits for a drain goes on. */
  close(): void {
    this.closed = true;
    this.release?.();
  }
}
