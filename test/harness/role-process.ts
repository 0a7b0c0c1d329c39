import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const cliPath = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));

export type LogRecord = Record<string, unknown> & { msg: string; level: string };

/** One runtime role running as its own OS process, with its JSON log lines collected. */
export class RoleProcess {
  readonly logs: LogRecord[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly label: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    /** An open-file limit for the process (as `ulimit -n` sets it). */
    fileLimit?: number,
  ) {
    const command = [process.execPath, cliPath, ...args];
    this.child = fileLimit === undefined
      ? spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${fileLimit} && exec "$@"`, 'bash', ...command], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogRecord);
      } catch {
        this.logs.push({ msg: line, level: 'raw' });
      }
      if (process.env.GWC_TEST_VERBOSE) process.stderr.write(`[${label}] ${line}\n`);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderr.push(line));
    // 'close' comes after the output streams have ended, so every line the process wrote is in `logs` by then.
    this.child.on('close', (code, signal) => (this.exit = { code, signal }));
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for a log line whose msg equals `msg` and whose other fields match `fields`, counting from `after`. */
  async waitForLog(msg: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000, after = 0): Promise<LogRecord> {
    return waitFor(`${this.label} to log "${msg}" ${JSON.stringify(fields)}`, () => {
      const found = this.logs.slice(after).find((record) => record.msg === msg && Object.entries(fields).every(([k, v]) => record[k] === v));
      if (!found && this.exit) {
        const last = this.logs.slice(-3).map((record) => JSON.stringify(record)).join(' | ');
        throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}): ${this.stderr.join(' | ')} (last log lines: ${last})`);
      }
      return found;
    }, timeoutMs);
  }

  hasLog(msg: string, fields: Record<string, unknown> = {}): boolean {
    return this.logs.some((record) => record.msg === msg && Object.entries(fields).every(([k, v]) => record[k] === v));
  }

  /** Sends `signal` and waits for the exit (and the last of its output); SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 8000): Promise<void> {
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
