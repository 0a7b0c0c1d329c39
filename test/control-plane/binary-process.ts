import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

const running = new Set<BinaryProcess>();
let exitHookInstalled = false;

/** A control-plane binary in its own process group, its output in a log file; killed if the test process exits. */
export class BinaryProcess {
  readonly child: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    this.child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log] });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve();
      }),
    );
    // A test that forgets stop() must still be able to exit; the exit hook below kills what is left.
    this.child.unref();
    running.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const proc of running) proc.signal('SIGKILL');
      });
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The last lines of its log, for error messages. */
  tail(lines = 15): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Throws with the log tail if it has exited: used while waiting for it to come up. */
  assertRunning(): void {
    if (this.exit) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}):\n${this.tail()}`);
  }

  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exit) return;
    // Unref'd so a forgotten process cannot hold the test open; while it is awaited, its exit must hold the loop
    // (else, once the SIGKILL timer has fired, the loop ends with this promise pending).
    this.child.ref();
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
