import type { LogEvent } from './log-events.js';

/** The fields of a log record; `logEvent` says what it reports to programs (see log-events.ts). */
export interface LogFields {
  logEvent?: LogEvent;
  [field: string]: unknown;
}

const LEVEL_COLOURS: Record<string, string> = { debug: '90', info: '36', warn: '33', error: '31' };
// logEvent restates msg for programs: a person reads msg.
const LEFT_OUT = new Set(['time', 'level', 'role', 'name', 'msg', 'logEvent']);

/**
 * Whether log lines go out as text for a person rather than JSON lines: GWC_LOG_FORMAT=text or json decides, else
 * text when stdout is a terminal.
 */
export function logsAsText(env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean } = process.stdout): boolean {
  const format = env.GWC_LOG_FORMAT;
  if (format === 'text' || format === 'json') return format === 'text';
  return stream.isTTY === true;
}

/** One log record as a terminal line: `12:00:00.123 INFO  gateway  ready port=7272 ...`, coloured by level. */
export function formatLogRecord(record: LogFields, colour = true): string {
  const level = String(record.level ?? 'info');
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const source = [record.role, record.name].filter((part) => part !== undefined && part !== '').join('/');
  const fields = Object.entries(record)
    .filter(([key]) => !LEFT_OUT.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(' ');
  const tag = level.toUpperCase().padEnd(5);
  const shownTag = colour ? `\x1b[${LEVEL_COLOURS[level] ?? '0'}m${tag}\x1b[0m` : tag;
  return `${time} ${shownTag} ${source.padEnd(14)} ${String(record.msg ?? '')}${fields ? ' ' + fields : ''}\n`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object' && 'message' in value && 'stack' in value) {
    return `${JSON.stringify((value as { message: unknown }).message)}\n${String((value as { stack: unknown }).stack)}`;
  }
  return JSON.stringify(value);
}
