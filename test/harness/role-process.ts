import { fileURLToPath } from 'node:url';
import type { LogEvent } from '../../runtime/observability/log-events.js';
import type { LogFields } from '../../runtime/observability/log-format.js';
import { SupervisedProcess, type LogRecord, type ProcessExit } from '../../runtime/supervisor/supervised-process.js';

export type { LogRecord };
export const cliPath = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));

/**
 * One runtime role (`gwc <role> ...`) running as its own OS process, with its JSON log lines collected. Wait on
 * what it reports with waitForEvent (a typed logEvent); waitForLog and hasLog match the message text, for tests
 * of a line people read.
 */
export class RoleProcess extends SupervisedProcess {
  constructor(
    label: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    /** An open-file limit for the process (as `ulimit -n` sets it). */
    fileLimit?: number,
  ) {
    super({ label, command: [process.execPath, cliPath, ...args], env: { ...process.env, ...env }, fileLimit });
    if (process.env.GWC_TEST_VERBOSE) this.onRecord((_record, line) => process.stderr.write(`[${label}] ${line}\n`));
  }

  /** Every record so far (parsed JSON lines; a line that is not JSON as `{ level: 'raw', msg }`). */
  get logs(): LogRecord[] {
    return this.records;
  }

  hasEvent(event: LogEvent, fields: LogFields = {}): boolean {
    return this.events(event, fields).length > 0;
  }

  /** Waits for a record whose msg equals `msg` and whose other fields match `fields`, counting from `after`. */
  waitForLog(msg: string, fields: LogFields = {}, timeoutMs = 10_000, after = 0): Promise<LogRecord> {
    return this.waitForRecord(`${this.label} to log "${msg}" ${JSON.stringify(fields)}`, messageMatcher(msg, fields), timeoutMs, after);
  }

  hasLog(msg: string, fields: LogFields = {}): boolean {
    return this.find(messageMatcher(msg, fields)) !== undefined;
  }

  /** Sends `signal` and waits for the exit (and the last of its output); SIGKILL after `timeoutMs`. */
  override stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 8000): Promise<ProcessExit> {
    return super.stop(signal, timeoutMs);
  }
}

function messageMatcher(msg: string, fields: LogFields): (record: LogRecord) => boolean {
  const wanted = Object.entries(fields);
  return (record) => record.msg === msg && wanted.every(([key, value]) => record[key] === value);
}
