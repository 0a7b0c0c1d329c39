/**
 * Our serialize/unserialize against PHP's own (php-cli from Debian), and the unserializer against hostile bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { replaceRecursive, sessionFromPhp, sessionToPhp } from '../../runtime/compat/php-session.js';
import { PhpArray, phpSerialize } from '../../runtime/compat/php-serialize.js';
import { phpUnserialize, PhpUnserializeError } from '../../runtime/compat/php-unserialize.js';
import { MAX_SESSION_DEPTH } from '../../runtime/wire/session-depth.js';

/** Runs `code` in PHP with `$in`, the JSON-decoded input; returns what it echoes. */
function php(code: string, input: unknown): string {
  return execFileSync('php', ['-r', `$in = json_decode(stream_get_contents(STDIN), true); ${code}`], { input: JSON.stringify(input) }).toString();
}

const SAMPLES: unknown[] = [
  null,
  true,
  false,
  0,
  -7,
  2 ** 53 - 1,
  0.1,
  -2.5e-7,
  1e25,
  '',
  'héllo "quoted"; {braces} ☃ 😀',
  [],
  [1, 'two', [3, [4]]],
  { uid: 7, name: 'a', nested: { list: [1, 2], empty: [], flag: true, none: null } },
  { '0': 'zero', '1': 'one' },
  { '5': 'five', x: 'y', '-3': 'neg', '007': 'str', '9223372036854775808': 'too big for an int key' },
];

describe('PHP serialize', () => {
  it('writes what PHP reads back as json_decode($json, true) would have it', () => {
    // PHP's own serialize() of the same values, and whether unserialize() of ours equals it (== with types: ===).
    const ours = SAMPLES.map((value) => phpSerialize(value).toString('base64'));
    const verdicts = php(
      'foreach ($in as [$json, $ours]) { $value = json_decode($json, true); echo unserialize(base64_decode($ours)) === $value ? "same\\n" : "differs: " . serialize($value) . "\\n"; }',
      SAMPLES.map((value, i) => [JSON.stringify(value), ours[i]]),
    );
    assert.deepEqual(verdicts.trim().split('\n'), SAMPLES.map(() => 'same'));
  });

  it('writes integers and strings byte for byte as PHP does, integer-like keys as integers, in order', () => {
    const value = new PhpArray([[12, 'a'], ['7', 'b'], ['x', [1, 2]], ['', null]]);
    const expected = php('echo serialize([12 => "a", "7" => "b", "x" => [1, 2], "" => null]);', null);
    assert.equal(phpSerialize(value).toString(), expected);
  });

  it('refuses what has no PHP form', () => {
    assert.throws(() => phpSerialize(Number.NaN), /no JSON form/);
    assert.throws(() => phpSerialize(() => 1), /has no PHP form/);
  });
});

describe('PHP unserialize', () => {
  it('reads what PHP writes as json_encode gives it', () => {
    const written = php('foreach ($in as $json) echo base64_encode(serialize(json_decode($json, true))), "\\n";', SAMPLES.map((value) => JSON.stringify(value)));
    const encoded = php('foreach ($in as $json) echo json_encode(json_decode($json, true)), "\\n";', SAMPLES.map((value) => JSON.stringify(value)));
    const lines = written.trim().split('\n');
    const expected = encoded.trim().split('\n');
    lines.forEach((line, i) => {
      const value = phpUnserialize(Buffer.from(line, 'base64'), MAX_SESSION_DEPTH);
      assert.equal(JSON.stringify(value), JSON.stringify(JSON.parse(expected[i]!)), `sample ${i}: ${JSON.stringify(SAMPLES[i])}`);
    });
  });

  it('reads a stdClass object as an object, and PHP floats in every form PHP writes', () => {
    const written = php('echo serialize(["o" => (object)["a" => 1], "f" => [0.1, 1.0E+25, -0.0, 1.5e-7, 3.0]]);', null);
    assert.equal(JSON.stringify(phpUnserialize(Buffer.from(written), 8)), '{"o":{"a":1},"f":[0.1,1e+25,0,1.5e-7,3]}');
  });

  const refusals: Array<[string, string | Buffer, RegExp]> = [
    ['an object of a class', 'O:8:"DateTime":0:{}', /PHP object of class DateTime has no JSON form/],
    ['a custom-serialized object', 'C:11:"ArrayObject":0:{}', /PHP object has no JSON form/],
    ['an enum case', 'E:7:"Suit:Hearts";', /enum case/],
    ['a reference', 'a:2:{i:0;a:0:{}i:1;R:2;}', /reference has no JSON form/],
    ['NAN', 'd:NAN;', /NAN has no JSON form/],
    ['INF', 'a:1:{s:1:"x";d:-INF;}', /-INF has no JSON form/],
    ['an integer past 2^53', 'i:9007199254740993;', /past what JavaScript holds exactly/],
    ['a string that is not UTF-8', Buffer.concat([Buffer.from('s:2:"'), Buffer.from([0xff, 0xfe]), Buffer.from('";')]), /not UTF-8/],
    ['a string longer than the input', 's:99:"short";', /runs past the end/],
    ['a string shorter than its length', 's:2:"abc";', /expected """/],
    ['bytes after the value', 'i:1;i:2;', /bytes after the value/],
    ['an array with fewer entries than it says', 'a:3:{i:0;i:1;}', /expected/],
    ['an array key of another type', 'a:1:{b:1;i:1;}', /key must be an integer or a string/],
    ['an unknown type', 'x:1;', /unknown PHP type "x"/],
    ['nothing at all', '', /the input ends before its value/],
    ['a boolean other than 0 or 1', 'b:2;', /boolean is 0 or 1/],
    ['a malformed float', 'd:1.2.3;', /expected a float/],
  ];
  for (const [what, input, message] of refusals) {
    it(`refuses ${what}, naming it`, () => {
      assert.throws(() => phpUnserialize(Buffer.from(input), MAX_SESSION_DEPTH), (error: Error) => error instanceof PhpUnserializeError && message.test(error.message));
    });
  }

  it('refuses nesting past the limit without recursing, however deep the input claims to go', () => {
    const deep = (levels: number) => Buffer.from('a:1:{i:0;'.repeat(levels) + 'N;' + '}'.repeat(levels));
    assert.deepEqual(JSON.stringify(phpUnserialize(deep(MAX_SESSION_DEPTH), MAX_SESSION_DEPTH)).length, 2 * MAX_SESSION_DEPTH + 4);
    assert.throws(() => phpUnserialize(deep(MAX_SESSION_DEPTH + 1), MAX_SESSION_DEPTH), /nested deeper than 64 levels/);
    const started = process.hrtime.bigint();
    assert.throws(() => phpUnserialize(deep(200_000), MAX_SESSION_DEPTH), /nested deeper than 64 levels/);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);
  });

  it('keeps a "__proto__" key as a key: nothing gets a prototype from the input', () => {
    const value = phpUnserialize(Buffer.from('a:2:{s:9:"__proto__";a:1:{s:8:"polluted";b:1;}s:11:"constructor";s:1:"x";}'), 8) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), null);
    assert.equal((value as { polluted?: unknown }).polluted, undefined);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    assert.equal(JSON.stringify(value), '{"__proto__":{"polluted":true},"constructor":"x"}');
  });

  it('takes a duplicate key as PHP does: the later value in the first place', () => {
    assert.equal(JSON.stringify(phpUnserialize(Buffer.from('a:3:{s:1:"a";i:1;s:1:"b";i:2;s:1:"a";i:3;}'), 4)), '{"a":3,"b":2}');
  });
});

describe('sessions between PHP and JSON', () => {
  it('a session PHP sets is the object a handler reads, and back', () => {
    const written = php('echo serialize(["uid" => 7, "name" => "a", "tags" => ["x", "y"], "score" => 1.5, "ok" => true, "none" => null]);', null);
    const json = sessionFromPhp(Buffer.from(written)).toString();
    assert.equal(json, '{"uid":7,"name":"a","tags":["x","y"],"score":1.5,"ok":true,"none":null}');
    assert.equal(sessionToPhp(Buffer.from(json)).toString(), written);
    assert.equal(sessionToPhp(Buffer.alloc(0)).toString(), 'a:0:{}');
    assert.equal(sessionFromPhp(Buffer.from('a:2:{i:0;s:1:"a";i:1;s:1:"b";}')).toString(), '{"0":"a","1":"b"}', 'a list at the top is still an object');
    assert.throws(() => sessionFromPhp(Buffer.from('s:1:"a";')), /must be a PHP array, got string/);
  });

  it('updateSession merges as PHP\'s array_replace_recursive does', () => {
    const cases = [
      [{ a: 1, b: { c: 2, d: [1, 2, 3] } }, { b: { d: [9], e: 5 }, f: 'new' }],
      [{ list: [1, 2, 3] }, { list: { '5': 'x' } }],
      [{ a: { b: 1 } }, { a: 'scalar replaces array' }],
      [{ a: 'scalar' }, { a: { b: 'array replaces scalar' } }],
    ];
    const expected = php('foreach ($in as [$a, $b]) echo json_encode(array_replace_recursive($a, $b)), "\\n";', cases).trim().split('\n');
    cases.forEach(([base, replacement], i) => assert.equal(JSON.stringify(replaceRecursive(base, replacement)), expected[i]));
  });
});
