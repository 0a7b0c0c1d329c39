/**
 * How deep JSON nests, found without recursion: V8's JSON.parse takes any depth, but JSON.stringify, structuredClone,
 * String() of an array and every recursive walk overflow the stack somewhere past a few thousand levels. Whatever
 * came from outside is measured with these before anything recursive touches it. Depth counts objects and arrays,
 * the outermost one being the first level: `{}` is 1 deep, `{"a":[{}]}` is 3.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether the JSON text (UTF-8) nests deeper than `limit`, read byte by byte before it is parsed. Brackets inside
 * strings do not count. ASCII bytes stand for themselves in UTF-8 (no multi-byte sequence contains one), so what
 * counts here is what JSON.parse will see. Text that is not JSON gives some answer; JSON.parse then refuses it.
 */
export function jsonNestedDeeperThan(json: Uint8Array, limit: number): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (byte === QUOTE) {
      i = closingQuote(json, i);
      if (i < 0) return false;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open`, or -1 when none does. */
function closingQuote(json: Uint8Array, open: number): number {
  let end = open;
  for (;;) {
    end = json.indexOf(QUOTE, end + 1);
    if (end < 0) return -1;
    let backslashes = 0;
    while (json[end - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
  }
}

/**
 * Whether a JavaScript value would nest deeper than `limit` as JSON (JSON.stringify's view: toJSON is called, only
 * own enumerable keys count), walked with a stack of its own. A value that refers to itself is infinitely deep, so it
 * is "deeper" too. The walk stops at the first path past the limit: its cost is at most that of stringifying.
 */
export function valueNestedDeeperThan(value: unknown, limit: number): boolean {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    let node = nodes.pop();
    const depth = depths.pop()!;
    if (typeof (node as { toJSON?: unknown } | null)?.toJSON === 'function') node = (node as { toJSON(): unknown }).toJSON();
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
