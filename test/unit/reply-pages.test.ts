import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { encodedBytesAtMost } from '../../runtime/wire/message-size.js';
import { loadProto, protoType } from '../../runtime/wire/proto-schema.js';
import { bytesAtMost, mergePages, ReplyTooLargeError, replyPages } from '../../runtime/wire/reply-pages.js';
import { ErrorCode, type Reply } from '../../runtime/wire/types.js';
import { messageArbitrary } from '../harness/proto-arbitrary.js';

const LIMIT = 64 * 1024;
const session = Buffer.from(JSON.stringify({ blob: 's'.repeat(1600) }));
const big: Reply = {
  requestId: 7,
  clients: Array.from({ length: 500 }, (_, i) => ({ clientId: `7f0000010b54${String(i).padStart(8, '0')}`, session, uid: `u${i}`, groups: ['g'] })),
  ids: Array.from({ length: 300 }, (_, i) => `id-${i}`),
  groups: [{ group: 'g', clientCount: 500, clientIds: ['a', 'b'], uids: ['u'] }],
  count: 500,
};

describe('replies larger than a frame', () => {
  it('are measured without encoding by a bound never below their encoding', () => {
    const samples: Reply[] = [
      big,
      { requestId: 0xffffffff, count: Number.MAX_SAFE_INTEGER, partial: true, error: 'é€😀'.repeat(50) },
      { requestId: 3, clients: [{ clientId: '7f0000010b5400000001', uid: 'ünï', session: Buffer.alloc(300) }], ids: ['€'.repeat(200)] },
      { requestId: 4, groups: [{ group: '群', clientCount: 4_000_000_000, clientIds: ['a'.repeat(130)], uids: ['😀'] }] },
    ];
    for (const reply of samples) assert.ok(bytesAtMost(reply) >= encodeEnvelope({ reply }).length, JSON.stringify(reply).slice(0, 80));
  });

  it('are sent whole when they fit', () => {
    const small: Reply = { requestId: 1, count: 3 };
    assert.deepEqual(replyPages(small, LIMIT, true), [small]);
  });

  it('come in pages under the frame limit, partial but the last, which merge back into the answer', () => {
    const pages = replyPages(big, LIMIT, true);
    assert.ok(encodeEnvelope({ reply: big }).length > 10 * LIMIT);
    assert.ok(pages.length > 10, `${pages.length} pages`);
    for (const page of pages) assert.ok(encodeEnvelope({ reply: page }).length <= LIMIT, `a page of ${encodeEnvelope({ reply: page }).length} bytes`);
    assert.deepEqual(pages.map((page) => page.partial ?? false), [...pages.slice(1).map(() => true), false]);
    assert.equal(pages.at(-1)!.count, 500, 'the count with the last page');
    assert.deepEqual(mergePages(pages), big);
    const failed = { ...pages.at(-1)!, error: 'failed late', errorCode: ErrorCode.Internal };
    assert.deepEqual(mergePages([...pages.slice(0, -1), failed]), { ...big, error: 'failed late', errorCode: ErrorCode.Internal }, 'every other field from the last page');
  });

  it('are an error, not a cut answer, for a peer that does not take pages', () => {
    const [only, ...rest] = replyPages(big, LIMIT, false);
    assert.deepEqual(rest, []);
    assert.match(only!.error!, /^the answer is \d+ bytes, over the 65536-byte frame limit/);
    assert.equal(only!.errorCode, ErrorCode.TooLarge);
    assert.equal(only!.clients, undefined);
  });

  it('refuse one entry larger than a frame', () => {
    const huge: Reply = { requestId: 2, clients: [{ clientId: 'x', session: Buffer.alloc(LIMIT) }] };
    assert.throws(() => replyPages(huge, LIMIT, true), /one entry of the answer \(clients\) is \d+ bytes/);
    assert.throws(() => replyPages(huge, LIMIT, true), ReplyTooLargeError);
  });
});

describe('the size bound of a reply', () => {
  const runs = { numRuns: 300 };

  it('is never below the encoding of any Reply', () => {
    fc.assert(fc.property(messageArbitrary(protoType('Reply')), (reply) => bytesAtMost(reply) >= encodeEnvelope({ reply }).length), runs);
  });

  it('counts the fields a Reply gains, of every kind', () => {
    // gwc.proto read afresh, its Reply given one more field of each kind: the bound is taken from the same reflection.
    const root = loadProto();
    const reply = root.lookupType('gwc.Reply');
    const added = [
      new protobuf.Field('note', 100, 'string'),
      new protobuf.Field('blob', 101, 'bytes'),
      new protobuf.Field('more', 102, 'ClientInfo', 'repeated'),
      new protobuf.Field('total', 103, 'sint64'),
      new protobuf.Field('ratio', 104, 'double'),
      new protobuf.Field('mark', 105, 'fixed32'),
      new protobuf.Field('ops', 106, 'Op', 'repeated'),
      new protobuf.Field('flag', 107, 'bool'),
      new protobuf.MapField('labels', 108, 'string', 'string'),
    ];
    for (const field of added) reply.add(field);
    root.resolveAll();
    const envelope = root.lookupType('gwc.Envelope');
    const withAdded = messageArbitrary(reply).filter((message) => added.some((field) => message[field.name] !== undefined));
    fc.assert(fc.property(withAdded, (message) => encodedBytesAtMost(envelope, { reply: message }) >= envelope.encode({ reply: message }).finish().length), runs);
  });
});
