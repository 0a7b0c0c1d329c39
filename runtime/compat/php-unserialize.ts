/**
 * PHP's unserialize() for bytes a GatewayClient sends (sessions, message bodies), into the JSON value
 * json_encode() would give, and nothing else: untrusted input, read without recursion, nested at most `maxDepth`
 * levels, every length checked against what is there. Arrays whose keys are 0..n-1 in order are JSON arrays, other
 * arrays objects without a prototype (a key "__proto__" is a key like any other). What JSON cannot hold is refused,
 * naming it: objects of a class (a stdClass object, json_decode's own kind, is an object), references, NAN and INF,
 * integers past 2^53, strings that are not UTF-8 text.
 *
 * npm's PHP serializers were not used: php-serialize and locutus recurse without bound, and php-serialize builds
 * objects of classes named in the input and assigns "__proto__" keys; see the README ("Coming from GatewayWorker").
 */
import { isUtf8 } from 'node:buffer';
import { phpKey } from './php-serialize.js';

export class PhpUnserializeError extends Error {}

interface Level {
  /** Entries so far (a later duplicate key replaces the value and keeps the place, as in PHP). */
  readonly entries: Map<string | number, unknown>;
  remaining: number;
  /** The key read, waiting for its value. */
  key: string | number | undefined;
  /** stdClass: its properties are never a list. */
  readonly object: boolean;
}

const COLON = 0x3a;
const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const OPEN = 0x7b;
const CLOSE = 0x7d;

export function phpUnserialize(bytes: Buffer, maxDepth: number): unknown {
  let at = 0;
  const levels: Level[] = [];
  let result: unknown;
  /** Puts a finished value in its parent; false when it was the outermost one. */
  const deliver = (value: unknown): boolean => {
    const parent = levels.at(-1);
    if (!parent) {
      result = value;
      return false;
    }
    parent.entries.set(parent.key!, value);
    parent.key = undefined;
    parent.remaining--;
    return true;
  };
  const fail = (what: string): never => {
    throw new PhpUnserializeError(`${what} (at byte ${at})`);
  };
  const expect = (byte: number) => {
    if (bytes[at] !== byte) fail(`expected "${String.fromCharCode(byte)}"`);
    at++;
  };
  /** Digits (with an optional sign) up to `end`, as text. */
  const digitsUntil = (end: number, signed: boolean): string => {
    const stop = bytes.indexOf(end, at);
    if (stop < 0) fail(`expected "${String.fromCharCode(end)}"`);
    const text = bytes.toString('latin1', at, stop);
    if (!(signed ? /^[+-]?[0-9]+$/ : /^[0-9]+$/).test(text)) fail(`expected a number, got ${JSON.stringify(text.slice(0, 20))}`);
    at = stop + 1;
    return text;
  };
  const integer = (): number => {
    const text = digitsUntil(SEMICOLON, true);
    const value = Number(text);
    if (!Number.isSafeInteger(value)) fail(`integer ${text} is past what JavaScript holds exactly (2^53)`);
    return value;
  };
  const text = (): string => {
    const length = Number(digitsUntil(COLON, false));
    expect(QUOTE);
    if (at + length + 2 > bytes.length) fail(`string of ${length} bytes runs past the end`);
    const raw = bytes.subarray(at, at + length);
    at += length;
    expect(QUOTE);
    if (!isUtf8(raw)) fail('a string that is not UTF-8 text has no JSON form');
    return raw.toString('utf8');
  };
  const open = (object: boolean) => {
    const count = Number(digitsUntil(COLON, false));
    expect(OPEN);
    if (levels.length >= maxDepth) fail(`nested deeper than ${maxDepth} levels`);
    levels.push({ entries: new Map(), remaining: count, key: undefined, object });
  };

  for (;;) {
    const level = levels.at(-1);
    if (level && level.remaining === 0) {
      expect(CLOSE);
      levels.pop();
      if (!deliver(finish(level))) break;
      continue;
    }
    if (level && level.key === undefined) {
      const kind = String.fromCharCode(bytes[at] ?? 0);
      at++;
      expect(COLON);
      if (kind === 'i') level.key = integer();
      else if (kind === 's') {
        const key = text();
        expect(SEMICOLON);
        level.key = level.object ? key : phpKey(key);
      } else fail(`an array key must be an integer or a string, got "${kind}"`);
      continue;
    }
    if (at >= bytes.length) fail('the input ends before its value');
    const kind = String.fromCharCode(bytes[at]!);
    at++;
    let value: unknown;
    if (kind === 'N') {
      expect(SEMICOLON);
      value = null;
    } else {
      expect(COLON);
      switch (kind) {
        case 'b': {
          const flag = digitsUntil(SEMICOLON, false);
          if (flag !== '0' && flag !== '1') fail(`a boolean is 0 or 1, got ${flag}`);
          value = flag === '1';
          break;
        }
        case 'i':
          value = integer();
          break;
        case 'd':
          value = float(digitsOrWord(bytes, at), fail);
          at = bytes.indexOf(SEMICOLON, at) + 1;
          break;
        case 's':
          value = text();
          expect(SEMICOLON);
          break;
        case 'a':
          open(false);
          continue;
        case 'O': {
          const name = text();
          expect(COLON);
          if (name !== 'stdClass') fail(`a PHP object of class ${name} has no JSON form`);
          open(true);
          continue;
        }
        case 'C':
        case 'E':
          fail(`a PHP object${kind === 'E' ? ' (an enum case)' : ''} has no JSON form`);
          break;
        case 'r':
        case 'R':
          fail('a PHP reference has no JSON form');
          break;
        default:
          fail(`unknown PHP type "${kind}"`);
      }
    }
    if (!deliver(value)) break;
  }
  if (at !== bytes.length) fail(`${bytes.length - at} bytes after the value`);
  return result;
}

/** The text of a float up to its ";" (checked by float()). */
function digitsOrWord(bytes: Buffer, at: number): string {
  const stop = bytes.indexOf(SEMICOLON, at);
  return stop < 0 ? '' : bytes.toString('latin1', at, stop);
}

function float(text: string, fail: (what: string) => never): number {
  if (text === 'NAN' || text === 'INF' || text === '-INF') fail(`${text} has no JSON form`);
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) fail(`expected a float, got ${JSON.stringify(text.slice(0, 20))}`);
  const value = Number(text);
  if (!Number.isFinite(value)) fail(`${text} has no JSON form`);
  return value;
}

/** A PHP array as JSON: a list when its keys are 0..n-1 in order, else an object without a prototype. */
function finish(level: Level): unknown {
  let index = 0;
  let list = !level.object;
  for (const key of level.entries.keys()) {
    if (key !== index++) {
      list = false;
      break;
    }
  }
  if (list) return [...level.entries.values()];
  const object = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of level.entries) object[String(key)] = value;
  return object;
}
