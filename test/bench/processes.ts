import { openFileLimit } from '../../runtime/config/open-file-limit.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { waitFor } from '../harness/wait.js';

export type Line = Record<string, unknown>;

export interface SpawnOptions {
  /** Open-file limit the child needs; it is raised with `ulimit -n` and checked in /proc after start. */
  nofile?: number;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
}

const children = new Set<BenchProcess>();

/**
 * A node script as its own process group (so killing the group takes everything it started), with its stdout
 * JSON lines collected and a stdin to send JSON commands on.
 */
export class BenchProcess {
  readonly lines: Line[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly label: string,
    script: string,
    args: string[],
    private readonly options: SpawnOptions = {},
  ) {
    const node = [process.execPath, ...(options.nodeFlags ?? []), script, ...args];
    // `ulimit -n` only raises the soft limit up to the hard one; start() checks what the child really got.
    const raise = options.nofile ? `ulimit -n ${options.nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; ` : '';
    this.child = spawn('bash', ['-c', `${raise}exec "$@"`, 'bash', ...node], {
      detached: true,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Line);
      } catch {
        this.lines.push({ msg: line, raw: true });
      }
      if (process.env.GWC_BENCH_VERBOSE) process.stderr.write(`[${label}] ${line}\n`);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (process.env.GWC_BENCH_VERBOSE) process.stderr.write(`[${label}!] ${line}\n`);
    });
    this.child.stdin!.on('error', () => {});
    this.child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      children.delete(this);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Fails unless the child's open-file limit is at least what was asked for. */
  checkFileLimit(): void {
    const wanted = this.options.nofile;
    if (!wanted) return;
    const soft = openFileLimit(this.pid) ?? 0;
    if (soft < wanted) {
      throw new Error(
        `${this.label}: open-file limit is ${soft} but ${wanted} is needed (hard limit ${hardFileLimit()}); ` +
          'raise it (ulimit -Hn / LimitNOFILE) or lower the connection counts',
      );
    }
  }

  send(command: Line): void {
    this.child.stdin!.write(JSON.stringify(command) + '\n');
  }

  /** Waits for a stdout JSON line matching `fields`, counting from line `after`; fails early if the child died. */
  async waitForLine(fields: Line, timeoutMs = 15_000, after = 0): Promise<Line> {
    return waitFor(`${this.label} to print ${JSON.stringify(fields)}`, () => {
      const found = this.lines.slice(after).find((line) => Object.entries(fields).every(([k, v]) => line[k] === v));
      if (found) return found;
      if (this.exit) throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}): ${this.stderr.slice(-5).join(' | ')}`);
      return undefined;
    }, timeoutMs, 10);
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` (a --cpu-prof profile is written only on a clean exit). */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exit) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    signalGroup(this.pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** Kills every process group still running; synchronous so it can run in an 'exit' handler. */
export function killAll(): void {
  for (const child of children) signalGroup(child.pid, 'SIGKILL');
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
}

let cleanupInstalled = false;
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

// ---- /proc readings ----

export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** User + system CPU time of a process in seconds (clock ticks are 100 Hz on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy and total CPU time of the whole machine so far, in seconds (all cores). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: (total - idle) / 100, total: total / 100 };
}

function hardFileLimit(): string {
  const match = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match?.[1] ?? '?';
}
