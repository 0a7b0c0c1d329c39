import { valueNestedDeeperThan } from '../json/json-depth.js';
import { formatLogRecord, logsAsText, type LogFields } from './log-format.js';

export type { LogFields };

/**
 * Structured logging to stdout: one JSON object per line, always with time, level, role and msg; as readable text
 * instead on a terminal (see logsAsText).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/**
 * How deep a logged field may nest. Handlers log what their clients sent; past this (or for a value that refers to
 * itself) JSON.stringify could overflow the stack or throw, so the field is replaced by a note saying so.
 */
export const MAX_LOGGED_DEPTH = 32;

function loggable(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'object' && value !== null && valueNestedDeeperThan(value, MAX_LOGGED_DEPTH)) {
    return `(left out: nested deeper than ${MAX_LOGGED_DEPTH} levels, or circular)`;
  }
  return value;
}

export function createLogger(base: LogFields, minLevel: LogLevel = 'info', write?: (line: string) => void): Logger {
  const out = write ?? defaultWrite;
  const asText = write === undefined && logsAsText();
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (levelRank[level] < levelRank[minLevel]) return;
    const record: LogFields = { time: new Date().toISOString(), level, ...base, msg };
    if (fields) for (const [key, value] of Object.entries(fields)) if (key !== 'logEvent') record[key] = loggable(value);
    // Last, so a line reads as it did before records carried events: msg, then its fields.
    if (fields?.logEvent !== undefined) record.logEvent = fields.logEvent;
    out(asText ? formatLogRecord(record) : JSON.stringify(record) + '\n');
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }, minLevel, write),
  };
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}
