export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles per consecutive failure of the same key up to maxRetryMs. */
  baseRetryMs?: number;
  maxRetryMs?: number;
  concurrency?: number;
  /** Queue keys but handle none until resume(): a controller waits for every cache to fill first. */
  held?: boolean;
}

/** What a handler asks for after a successful run: nothing, or another run after `requeueAfterMs`. */
export type Outcome = void | { requeueAfterMs: number };

/**
 * A keyed work queue as controllers use it: a key waiting is not queued twice, a key is never handled twice at
 * once (one added while it runs is handled again right after), failures retry with per-key exponential backoff,
 * and a handler may ask to run again later.
 */
export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private held: boolean;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handle: (key: string) => Promise<Outcome>,
    private readonly onError: (key: string, error: unknown, retryInMs: number) => void,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.held = options.held ?? false;
  }

  resume(): void {
    this.held = false;
    this.pump();
  }

  /** Keys waiting or running. */
  get depth(): number {
    return this.queued.size + this.running.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  /** Adds `key` after `delayMs` (an earlier pending delay for it is replaced by the sooner of the two). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key) as (NodeJS.Timeout & { dueAt?: number }) | undefined;
    const dueAt = Date.now() + delayMs;
    if (existing && (existing.dueAt ?? Infinity) <= dueAt) return;
    clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs) as NodeJS.Timeout & { dueAt?: number };
    timer.dueAt = dueAt;
    timer.unref();
    this.timers.set(key, timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 2;
    while (!this.stopped && !this.held && this.running.size < concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift()!;
      this.queued.delete(key);
      this.running.add(key);
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const outcome = await this.handle(key);
      this.failures.delete(key);
      if (outcome && outcome.requeueAfterMs >= 0) this.addAfter(key, outcome.requeueAfterMs);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      const retryInMs = Math.min((this.options.baseRetryMs ?? 200) * 2 ** (count - 1), this.options.maxRetryMs ?? 60_000);
      this.onError(key, error, retryInMs);
      this.addAfter(key, retryInMs);
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.depth === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
