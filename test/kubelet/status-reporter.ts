/**
 * Test-only: sends a pod's status to the API server for the process kubelet, one patch at a time, coalescing
 * changes that arrive while one is in flight, skipping a status equal to the last one sent, and retrying failures.
 */
export class StatusReporter {
  private dirty = false;
  private running: Promise<void> | undefined;
  private lastSent = '';
  private closed = false;
  /** Set once the API says the pod is gone. */
  gone = false;

  constructor(
    private readonly compute: () => Record<string, unknown>,
    private readonly send: (status: Record<string, unknown>) => Promise<boolean>,
    private readonly log: (line: string) => void,
    private readonly debounceMs = 15,
  ) {}

  /** Asks for the current status to be sent soon. */
  request(): void {
    if (this.closed || this.gone) return;
    this.dirty = true;
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every change requested so far has been sent (or given up on). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No more patches (one in flight still settles). */
  close(): void {
    this.closed = true;
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.dirty && !this.gone && !this.closed) {
      await new Promise((resolve) => setTimeout(resolve, this.debounceMs));
      this.dirty = false;
      const status = this.compute();
      const json = JSON.stringify(status);
      if (json === this.lastSent) continue;
      try {
        if (!(await this.send(status))) {
          this.gone = true;
          return;
        }
        this.lastSent = json;
        failures = 0;
      } catch (error) {
        failures++;
        this.log(`status patch failed (${failures}): ${error instanceof Error ? error.message : String(error)}`);
        this.dirty = true;
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 5000)));
      }
    }
  }
}
