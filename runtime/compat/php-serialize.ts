/**
 * PHP's serialize() for what GatewayWorker's GatewayClient reads: query answers and sessions. JSON values map as
 * json_decode($json, true) would have them: objects and arrays become PHP arrays, whose integer-like keys PHP keeps
 * as integers. PhpArray keeps the order of its entries, as a PHP array does (a JavaScript object puts integer-like
 * keys first), for answers keyed by connection id or uid.
 */

/** An ordered PHP array of answers: its keys are written as PHP would hold them (integer-like strings as integers). */
export class PhpArray {
  constructor(readonly entries: ReadonlyArray<readonly [string | number, unknown]>) {}
}

/** A value with no PHP form (a function, a symbol, NaN...): a bug of ours, never the peer's. */
export class PhpSerializeError extends Error {}

const PHP_INT_MAX = 2n ** 63n - 1n;
const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;

/** How PHP holds an array key: a string in canonical decimal within PHP's integer range is an integer. */
export function phpKey(key: string | number): string | number {
  if (typeof key === 'number') return key;
  if (!CANONICAL_INTEGER.test(key)) return key;
  const value = BigInt(key);
  if (value > PHP_INT_MAX || value < -PHP_INT_MAX - 1n) return key;
  return Number.isSafeInteger(Number(key)) ? Number(key) : key;
}

/** serialize($value) as PHP writes it, as bytes (PHP strings are bytes: lengths count UTF-8 bytes). */
export function phpSerialize(value: unknown): Buffer {
  const parts: string[] = [];
  write(value, parts, 0);
  return Buffer.from(parts.join(''), 'utf8');
}

/** Deep enough for any session (MAX_SESSION_DEPTH) and answer; a deeper value is a bug, not a stack overflow. */
const MAX_DEPTH = 128;

function write(value: unknown, out: string[], depth: number): void {
  if (depth > MAX_DEPTH) throw new PhpSerializeError(`value nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || value === undefined) return void out.push('N;');
  switch (typeof value) {
    case 'boolean':
      return void out.push(value ? 'b:1;' : 'b:0;');
    case 'number':
      return void out.push(number(value));
    case 'string':
      return void out.push(string(value));
    case 'object':
      if (value instanceof PhpArray) return entries(value.entries, out, depth);
      if (Array.isArray(value)) return entries(value.map((item, index) => [index, item] as const), out, depth);
      return entries(Object.entries(value), out, depth);
    default:
      throw new PhpSerializeError(`a ${typeof value} has no PHP form`);
  }
}

function entries(list: ReadonlyArray<readonly [string | number, unknown]>, out: string[], depth: number): void {
  out.push(`a:${list.length}:{`);
  for (const [key, item] of list) {
    const held = phpKey(key);
    out.push(typeof held === 'number' ? `i:${held};` : integerKey(held) ?? string(held));
    write(item, out, depth + 1);
  }
  out.push('}');
}

/** An integer key past 2^53, which phpKey leaves as text because a JavaScript number cannot hold it. */
function integerKey(key: string): string | undefined {
  return CANONICAL_INTEGER.test(key) && BigInt(key) <= PHP_INT_MAX && BigInt(key) >= -PHP_INT_MAX - 1n ? `i:${key};` : undefined;
}

function number(value: number): string {
  if (!Number.isFinite(value)) throw new PhpSerializeError(`${value} has no JSON form`);
  if (Number.isSafeInteger(value)) return `i:${value === 0 ? 0 : value};`;
  // JavaScript's shortest round-trip form ("0.1", "1e+21") is one PHP's unserialize reads back exactly.
  return `d:${String(value)};`;
}

function string(value: string): string {
  return `s:${Buffer.byteLength(value, 'utf8')}:"${value}";`;
}
