import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openFileLimit } from '../net/open-file-limit.js';
import type { LogEvent } from '../observability/log-events.js';
import type { LogFields } from '../observability/log-format.js';

/** One stdout line of a supervised process: a parsed JSON log record, or `{ level: 'raw', msg: line }` when it is not one. */
export type LogRecord = LogFields & { msg: string; level: string };

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SupervisedProcessOptions {
  /** Names the process in errors. */
  label: string;
  /** The program and its arguments. */
  command: readonly string[];
  /** Its whole environment (default: ours). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Raises (or lowers) its open-file limit to this with `ulimit -n`, to the hard limit at most; see checkFileLimit. */
  fileLimit?: number;
  /** Its own process group: stop() and kill() then reach whatever it starts too. */
  ownGroup?: boolean;
  /** A pipe to its stdin for send(); /dev/null otherwise. */
  stdin?: boolean;
  /** Its stderr goes to ours instead of being collected. */
  inheritStderr?: boolean;
  /** Keeps every record in `records` (default); a long-lived supervisor that only follows lines keeps none. */
  keepRecords?: boolean;
}

/** How many lines of output an error about the process quotes, and how many lastLines() can give. */
const LAST_LINES = 10;
const TAIL_LINES = 100;

/** A wait on a process that exited before the awaited line came. */
export class ProcessExitedError extends Error {
  constructor(
    readonly label: string,
    readonly exit: ProcessExit,
    readonly lastLines: readonly string[],
    waitingFor?: string,
  ) {
    super(`${label} exited (${describeExit(exit)})${waitingFor ? ` while waiting for ${waitingFor}` : ''}; its last lines:\n${lastLines.join('\n') || '(none)'}`);
  }
}

type RecordListener = (record: LogRecord, line: string, parsed: boolean) => void;

interface Waiter {
  what: string;
  matches: (record: LogRecord) => boolean;
  resolve: (record: LogRecord) => void;
  reject: (error: Error) => void;
}

/**
 * A child process that logs JSON lines on stdout, followed from spawn to exit: its records (optionally kept), waits
 * on a record that reject at once when the process exits first, and a stop with a budget after which it is killed.
 * The one supervisor of `gwc local`, the test harness and the benchmark.
 */
export class SupervisedProcess {
  readonly label: string;
  readonly records: LogRecord[] = [];
  readonly stderr: string[] = [];
  readonly child: ChildProcess;
  /** Set once the process has exited and its output has ended (every line it wrote has been seen by then). */
  exit: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;
  private readonly tail: string[] = [];
  private readonly listeners: RecordListener[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly keepRecords: boolean;
  private readonly ownGroup: boolean;
  private readonly fileLimit: number | undefined;

  constructor(options: SupervisedProcessOptions) {
    this.label = options.label;
    this.keepRecords = options.keepRecords ?? true;
    this.ownGroup = options.ownGroup ?? false;
    this.fileLimit = options.fileLimit;
    const command = options.fileLimit === undefined
      ? options.command
      // `ulimit -n` can set the soft limit up to the hard one only; checkFileLimit says what the process got.
      : ['bash', '-c', `ulimit -n ${options.fileLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`, 'bash', ...options.command];
    this.child = spawn(command[0]!, command.slice(1), {
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: this.ownGroup,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
    });
    this.child.stdin?.on('error', () => {}); // a process that has exited does not read: what we send is lost, not an error
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    if (this.child.stderr) {
      createInterface({ input: this.child.stderr }).on('line', (line) => {
        this.stderr.push(line);
        this.remember(`stderr: ${line}`);
      });
    }
    this.exited = new Promise((resolve) => {
      // 'close' comes after the output streams have ended; 'error' when it could not be spawned at all.
      this.child.once('close', (code, signal) => resolve(this.exitWith({ code, signal })));
      this.child.once('error', (error) => {
        if (this.child.pid !== undefined) return; // a failed kill: it still runs
        this.remember(`spawn failed: ${error.message}`);
        resolve(this.exitWith({ code: null, signal: null }));
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Throws a ProcessExitedError if it has exited: for polled conditions that need it running. */
  assertRunning(waitingFor?: string): void {
    if (this.exit) throw new ProcessExitedError(this.label, this.exit, this.lastLines(), waitingFor);
  }

  /** Calls `listener` with every line from now on, parsed or not. */
  onRecord(listener: RecordListener): this {
    this.listeners.push(listener);
    return this;
  }

  /** The first kept record from index `after` on that `matches`. */
  find(matches: (record: LogRecord) => boolean, after = 0): LogRecord | undefined {
    for (let i = after; i < this.records.length; i++) if (matches(this.records[i]!)) return this.records[i];
    return undefined;
  }

  /**
   * The first record from index `after` on (kept ones first, then new ones) that `matches`. Rejects at once with a
   * ProcessExitedError, quoting the last lines, if the process exits first, and after `timeoutMs` otherwise.
   */
  waitForRecord(what: string, matches: (record: LogRecord) => boolean, timeoutMs = 10_000, after = 0): Promise<LogRecord> {
    const found = this.find(matches, after);
    if (found) return Promise.resolve(found);
    if (this.exit) return Promise.reject(new ProcessExitedError(this.label, this.exit, this.lastLines(), what));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.label}'s last lines:\n${this.lastLines().join('\n') || '(none)'}`));
      }, timeoutMs);
      const settle = <T>(then: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        then(value);
      };
      const waiter: Waiter = { what, matches, resolve: settle(resolve), reject: settle(reject) };
      this.waiters.add(waiter);
    });
  }

  /** A record with `logEvent` `event` whose other fields equal those in `fields`: see waitForRecord. */
  waitForEvent(event: LogEvent, fields: LogFields = {}, timeoutMs = 10_000, after = 0): Promise<LogRecord> {
    return this.waitForRecord(`${this.label} to report ${event} ${JSON.stringify(fields)}`, eventMatcher(event, fields), timeoutMs, after);
  }

  /** The kept records with `logEvent` `event` (and `fields`), from index `after` on. */
  events(event: LogEvent, fields: LogFields = {}, after = 0): LogRecord[] {
    return this.records.slice(after).filter(eventMatcher(event, fields));
  }

  /** The last lines it wrote (stdout and stderr; up to TAIL_LINES), for error messages. */
  lastLines(count = LAST_LINES): string[] {
    return this.tail.slice(-count);
  }

  /** Writes `message` to its stdin as one JSON line (needs `stdin: true`). */
  send(message: unknown): void {
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  /** Sends `signal` to the process (or its group); nothing once it has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exit) return;
    if (!this.ownGroup) {
      this.child.kill(signal);
      return;
    }
    signalGroup(this.pid, signal);
  }

  /** Sends `signal` and waits for the exit; SIGKILL once `budgetMs` has passed (never, when it is undefined). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', budgetMs?: number): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.kill(signal);
    const timer = budgetMs === undefined ? undefined : setTimeout(() => this.kill('SIGKILL'), budgetMs);
    const exit = await this.exited;
    clearTimeout(timer);
    // Whatever it started and left behind goes with it.
    if (this.ownGroup) signalGroup(this.pid, 'SIGKILL');
    return exit;
  }

  /** Fails unless its open-file limit is at least the `fileLimit` asked for. */
  checkFileLimit(): void {
    if (this.fileLimit === undefined) return;
    const soft = openFileLimit(this.pid) ?? 0;
    if (soft < this.fileLimit) {
      throw new Error(`${this.label}: open-file limit is ${soft} but ${this.fileLimit} is needed (hard limit ${hardFileLimit()}); ` +
        'raise it (ulimit -Hn / LimitNOFILE) or ask for fewer connections');
    }
  }

  private onLine(line: string): void {
    this.remember(line);
    const parsed = parseRecord(line);
    const record = parsed ?? { msg: line, level: 'raw' };
    if (this.keepRecords) this.records.push(record);
    for (const listener of this.listeners) listener(record, line, parsed !== undefined);
    for (const waiter of this.waiters) if (waiter.matches(record)) waiter.resolve(record);
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES * 2) this.tail.splice(0, TAIL_LINES);
  }

  private exitWith(exit: ProcessExit): ProcessExit {
    this.exit ??= exit;
    for (const waiter of this.waiters) waiter.reject(new ProcessExitedError(this.label, this.exit, this.lastLines(), waiter.what));
    return this.exit;
  }
}

export function eventMatcher(event: LogEvent, fields: LogFields = {}): (record: LogRecord) => boolean {
  const wanted = Object.entries(fields);
  return (record) => record.logEvent === event && wanted.every(([key, value]) => record[key] === value);
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** A JSON object line as a record; undefined for anything else. */
function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function hardFileLimit(): string {
  const match = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match?.[1] ?? '?';
}
