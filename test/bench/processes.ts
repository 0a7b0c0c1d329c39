import { readFileSync } from 'node:fs';
import { SupervisedProcess, type ProcessExit } from '../../runtime/supervisor/supervised-process.js';

export type Line = Record<string, unknown>;

export interface SpawnOptions {
  /** Open-file limit the child needs; it is raised with `ulimit -n` and checked (checkFileLimit) after start. */
  nofile?: number;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** What runs the script, when it is not node (e.g. `['php']`); `nodeFlags` then do not apply. */
  interpreter?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const children = new Set<BenchProcess>();

/**
 * A script (node's unless told otherwise) as its own process group (so killing the group takes everything it started), with its stdout
 * JSON lines collected and a stdin to send JSON commands on.
 */
export class BenchProcess extends SupervisedProcess {
  constructor(label: string, script: string, args: string[], options: SpawnOptions = {}) {
    super({
      label,
      command: [...(options.interpreter ?? [process.execPath, ...(options.nodeFlags ?? [])]), script, ...args],
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
      fileLimit: options.nofile,
      ownGroup: true,
      stdin: true,
    });
    children.add(this);
    void this.exited.then(() => children.delete(this));
    // GWC_BENCH_RAW: what a child prints that is not a JSON record (e.g. node's --trace-gc), to stderr, labelled.
    if (process.env.GWC_BENCH_RAW) this.child.stdout!.on('data', (data: Buffer) => process.stderr.write(rawLines(label, data.toString())));
    if (process.env.GWC_BENCH_VERBOSE) {
      this.onRecord((_record, line) => process.stderr.write(`[${label}] ${line}\n`));
      this.child.stderr!.on('data', (data: Buffer) => process.stderr.write(`[${label}!] ${data.toString()}`));
    }
  }

  /** Every stdout line so far, parsed. */
  get lines(): Line[] {
    return this.records;
  }

  /** Waits for a stdout JSON line matching `fields` (the load generator's protocol), counting from line `after`. */
  waitForLine(fields: Line, timeoutMs = 15_000, after = 0): Promise<Line> {
    const wanted = Object.entries(fields);
    return this.waitForRecord(`${this.label} to print ${JSON.stringify(fields)}`, (line) => wanted.every(([k, v]) => line[k] === v), timeoutMs, after);
  }

  /** SIGTERM to the group, SIGKILL after `graceMs` (a --cpu-prof profile is written only on a clean exit). */
  override stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<ProcessExit> {
    return super.stop(signal, graceMs);
  }
}

function rawLines(label: string, text: string): string {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{'))
    .map((line) => `[${label}] ${line}\n`)
    .join('');
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

/** User and system CPU time of a process so far, in seconds (clock ticks are 100 Hz on Linux). */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** User + system CPU time of a process in seconds. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** Busy and total CPU time of the whole machine so far, in seconds (all cores). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: (total - idle) / 100, total: total / 100 };
}
