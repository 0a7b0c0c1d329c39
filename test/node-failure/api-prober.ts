/**
 * A backend calling the HTTP API throughout a failure, each kind of call in its own loop, one call at a time: pushes
 * to clients, `isOnline` about clients, and a query of every gateway. Each call is timed, so a test can say how long
 * calls about the clients of a lost gateway, and about the others, took.
 */
export interface Probe {
  /** What was asked, e.g. "isOnline lost". */
  kind: string;
  startedAt: number;
  ms: number;
  status: number;
  result: unknown;
}

export interface ProbeLoop {
  kind: string;
  method: string;
  /** The arguments of the next call; undefined skips a turn. */
  args(): Record<string, unknown> | undefined;
}

const PAUSE_MS = 100;
const CALL_TIMEOUT_MS = 30_000;

export class ApiProber {
  readonly probes: Probe[] = [];
  private running = false;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  start(loops: ProbeLoop[]): void {
    this.running = true;
    this.loops = loops.map((loop) => this.run(loop));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** The probes of `kind` that were under way at `from` or started after it. */
  since(kind: string, from: number): Probe[] {
    return this.probes.filter((probe) => probe.kind === kind && probe.startedAt + probe.ms >= from);
  }

  private async run(loop: ProbeLoop): Promise<void> {
    while (this.running) {
      const args = loop.args();
      if (args) this.probes.push(await this.call(loop.kind, loop.method, args));
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  }

  private async call(kind: string, method: string, args: Record<string, unknown>): Promise<Probe> {
    const startedAt = Date.now();
    try {
      const response = await fetch(`${this.base}/v1/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}` },
        body: JSON.stringify(args),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      const body = (await response.json()) as { result?: unknown; error?: string };
      return { kind, startedAt, ms: Date.now() - startedAt, status: response.status, result: body.result ?? body.error };
    } catch (error) {
      return { kind, startedAt, ms: Date.now() - startedAt, status: 0, result: (error as Error).message };
    }
  }
}
