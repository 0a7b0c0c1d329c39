import { closeCause, type CloseCause } from './close-cause.js';

/** Seconds between heartbeats on internal connections unless configured otherwise (--heartbeat-interval). */
export const DEFAULT_HEARTBEAT_SECONDS = 10;

/** A peer silent for this many heartbeat intervals is taken for gone. */
const SILENT_INTERVALS = 3;

export interface LivenessLink {
  /** When we last sent anything. */
  lastSent(): number;
  sendHeartbeat(): void;
  /** The peer has been silent too long: close. */
  silent(cause: CloseCause): void;
}

/** Heartbeats on an authenticated connection: one goes out when we have been idle an interval; a peer silent for three is gone. */
export class Liveness {
  private lastReceived = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly link: LivenessLink,
  ) {}

  received(): void {
    this.lastReceived = Date.now();
  }

  start(): void {
    this.timer = setInterval(() => this.beat(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Whether the peer was heard from within three intervals; one that was not is reported silent. */
  check(now = Date.now()): boolean {
    if (now - this.lastReceived <= this.intervalMs * SILENT_INTERVALS) return true;
    this.link.silent(closeCause('SILENT', 'peer silent for three heartbeat intervals'));
    return false;
  }

  private beat(): void {
    const now = Date.now();
    if (!this.check(now)) return;
    if (now - this.link.lastSent() >= this.intervalMs) this.link.sendHeartbeat();
  }
}
