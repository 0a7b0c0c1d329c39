import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assetPath } from '../../runtime/assets.js';
import { jsonNestedDeeperThan, valueNestedDeeperThan } from '../../runtime/json/json-depth.js';
import { MAX_SESSION_DEPTH, sessionJsonTooDeep, sessionTooDeep } from '../../runtime/wire/session-depth.js';
import { deepSession, deepSessionJson } from '../harness/deep-json.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const FAR = 200_000;

describe('the depth of JSON text, read before parsing', () => {
  for (const inner of ['array', 'object'] as const) {
    it(`counts nested ${inner}s: at the limit is fine, one past is not, ${FAR.toLocaleString('en')} deep is answered at once`, () => {
      assert.equal(jsonNestedDeeperThan(bytes(deepSessionJson(5, inner)), 5), false);
      assert.equal(jsonNestedDeeperThan(bytes(deepSessionJson(6, inner)), 5), true);
      assert.equal(sessionJsonTooDeep(bytes(deepSessionJson(MAX_SESSION_DEPTH, inner))), false);
      assert.equal(sessionJsonTooDeep(bytes(deepSessionJson(MAX_SESSION_DEPTH + 1, inner))), true);
      assert.equal(sessionJsonTooDeep(bytes(deepSessionJson(FAR, inner))), true);
    });
  }

  it('counts the deepest branch, not every bracket', () => {
    const wide = `{"a":${'[[1],'.repeat(1000)}[]${']'.repeat(1000)}}`;
    assert.equal(jsonNestedDeeperThan(bytes(`{"a":[[1],[2],{"b":[3]}],"c":{}}`), 4), false);
    assert.equal(jsonNestedDeeperThan(bytes(`{"a":[[1],[2],{"b":[3]}],"c":{}}`), 3), true);
    assert.equal(jsonNestedDeeperThan(bytes(wide), 1002), false);
    assert.equal(jsonNestedDeeperThan(bytes(wide), 1001), true);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    const inStrings = JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[["', c: '\\', d: ']]]}}}', e: '"{[' });
    assert.equal(jsonNestedDeeperThan(bytes(inStrings), 1), false);
    // A string ending in a backslash: the quote after it closes the string, so the bracket after that counts.
    assert.equal(jsonNestedDeeperThan(bytes(JSON.stringify({ a: '\\', b: [[]] })), 2), true);
    assert.equal(jsonNestedDeeperThan(bytes(JSON.stringify({ a: '\\"[[[', b: [] })), 2), false);
    assert.equal(jsonNestedDeeperThan(bytes(JSON.stringify({ 'key [[[': '€ [ ✓', n: [['日本']] })), 3), false);
  });

  it('agrees with JSON.parse on what it parses', () => {
    for (const text of ['{}', '[]', '{"a":[]}', '[{"a":[{"b":"]]]"}]}]', '{"a":"\\\\","b":{"c":[1,{"d":"\\"["}]}}', '"[[["', '1']) {
      const depth = measuredDepth(JSON.parse(text));
      assert.equal(jsonNestedDeeperThan(bytes(text), depth), false, text);
      if (depth > 0) assert.equal(jsonNestedDeeperThan(bytes(text), depth - 1), true, text);
    }
  });
});

describe('the depth of a value, walked without recursion', () => {
  for (const inner of ['array', 'object'] as const) {
    it(`counts nested ${inner}s the same way as the text (at, past, ${FAR.toLocaleString('en')} deep)`, () => {
      assert.equal(sessionTooDeep(deepSession(MAX_SESSION_DEPTH, inner)), false);
      assert.equal(sessionTooDeep(deepSession(MAX_SESSION_DEPTH + 1, inner)), true);
      assert.equal(sessionTooDeep(deepSession(FAR, inner)), true);
      assert.equal(valueNestedDeeperThan(deepSession(7, inner), 7), false);
      assert.equal(valueNestedDeeperThan(deepSession(8, inner), 7), true);
    });
  }

  it('sees the value as JSON.stringify does: toJSON results, not the objects behind them, and primitives as no depth', () => {
    assert.equal(valueNestedDeeperThan({ at: new Date(0) }, 1), false, 'a Date is a string in JSON');
    assert.equal(valueNestedDeeperThan({ data: Buffer.from([1, 2]) }, 2), true, 'a Buffer is {type, data: [...]}');
    assert.equal(valueNestedDeeperThan({ data: Buffer.from([1, 2]) }, 3), false);
    assert.equal(valueNestedDeeperThan({ custom: { toJSON: () => deepSession(10) } }, 10), true);
    assert.equal(valueNestedDeeperThan('text', 0), false);
    assert.equal(valueNestedDeeperThan({ f: () => 1, s: Symbol('s'), u: undefined }, 1), false);
  });

  it('takes a value that refers to itself as too deep, rather than walking for ever', () => {
    const looped: Record<string, unknown> = { a: 1 };
    looped.self = looped;
    assert.equal(valueNestedDeeperThan(looped, MAX_SESSION_DEPTH), true);
    const wideLoop: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) wideLoop[`k${i}`] = wideLoop;
    assert.equal(sessionTooDeep(wideLoop), true);
  });
});

describe('the session depth limit', () => {
  it('is the one the README states, wherever it does', () => {
    const readme = readFileSync(assetPath('README.md'), 'utf8').replace(/\s+/g, ' ');
    assert.ok(readme.includes(`at most ${MAX_SESSION_DEPTH} levels deep`), `README.md states the session depth limit, ${MAX_SESSION_DEPTH}`);
    const stated = [...readme.matchAll(/(?:session nests objects and arrays at most|session[^.;]{0,20}nested deeper than) (\d+) levels/g)].map((match) => Number(match[1]));
    assert.ok(stated.length >= 3, `found ${stated.length} mentions`);
    assert.deepEqual(new Set(stated), new Set([MAX_SESSION_DEPTH]));
  });
});

/** A recursive measure, for the small values above only: what the scans must agree with. */
function measuredDepth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(measuredDepth));
}
