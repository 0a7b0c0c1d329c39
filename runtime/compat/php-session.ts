/**
 * Sessions between GatewayWorker's PHP form (a serialized array) and ours (a JSON object): what PHP writes with
 * Gateway::setSession a handler reads in ctx.session, and the reverse, for what both can hold.
 */
import { MAX_SESSION_DEPTH } from '../wire/session-depth.js';
import { parseSession, type Session } from '../wire/session.js';
import { phpKey, phpSerialize } from './php-serialize.js';
import { phpUnserialize, PhpUnserializeError } from './php-unserialize.js';

/** A session from PHP (serialize() of an array) as our JSON bytes; throws PhpUnserializeError naming what is wrong. */
export function sessionFromPhp(serialized: Buffer): Buffer {
  return Buffer.from(JSON.stringify(sessionValueFromPhp(serialized)));
}

/** The session PHP sent, as the object it stands for (an empty value: an empty session, as GatewayWorker has it). */
export function sessionValueFromPhp(serialized: Buffer): Session {
  if (serialized.length === 0) return {};
  const value = phpUnserialize(serialized, MAX_SESSION_DEPTH);
  if (value === null || typeof value !== 'object') throw new PhpUnserializeError(`a session must be a PHP array, got ${value === null ? 'null' : typeof value}`);
  // A session is an object: a PHP list at the top stays keyed by its indexes.
  return Array.isArray(value) ? { ...value } : (value as Session);
}

/** Our session (JSON bytes, none for a client without one) as PHP's serialize() of an array. */
export function sessionToPhp(json: Uint8Array): Buffer {
  return phpSerialize(parseSession(json));
}

type PhpArrayValue = Map<string | number, unknown>;

/**
 * PHP's array_replace_recursive($base, $replacement) on JSON values, GatewayWorker's Gateway::updateSession: each
 * key of the replacement replaces the base's, except where both values are arrays (JSON arrays or objects), which are
 * merged the same way, key by key.
 */
export function replaceRecursive(base: unknown, replacement: unknown): unknown {
  if (!isPhpArray(base) || !isPhpArray(replacement)) return replacement;
  const merged = asPhpArray(base);
  for (const [key, value] of asPhpArray(replacement)) {
    merged.set(key, merged.has(key) ? replaceRecursive(merged.get(key), value) : value);
  }
  return fromPhpArray(merged);
}

function isPhpArray(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function asPhpArray(value: object): PhpArrayValue {
  return new Map(Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value).map(([key, item]) => [phpKey(key), item]));
}

function fromPhpArray(array: PhpArrayValue): unknown {
  let index = 0;
  if ([...array.keys()].every((key) => key === index++)) return [...array.values()];
  const object = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of array) object[String(key)] = value;
  return object;
}
