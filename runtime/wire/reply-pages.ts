/**
 * Query answers larger than a frame: the gateway splits one into pages, each a Reply under the frame limit and
 * marked partial but the last, and the Gateway API client merges them. Pages split the Reply's lists (its repeated
 * fields); its other fields (the count, any error) come once, in the last page. Only a peer that offered
 * FEATURE_PAGED_REPLIES gets pages; any other gets an error naming the size, never an answer cut short.
 */
import { encodeEnvelope } from './envelope-codec.js';
import { encodedBytesAtMost, entryBytes, MAX_VARINT_BYTES } from './message-size.js';
import { protoType } from './proto-schema.js';
import { ErrorCode, type Reply } from './types.js';

type ListName = { [K in keyof Reply]-?: NonNullable<Reply[K]> extends unknown[] ? K : never }[keyof Reply];

const ENVELOPE = protoType('Envelope');
const LISTS = protoType('Reply')
  .fieldsArray.filter((field) => field.repeated)
  .map((field) => ({ name: field.name as ListName, bytes: entryBytes(field) }));

/** One entry of an answer is larger than a frame: it cannot be sent, in pages or not. */
export class ReplyTooLargeError extends Error {}

/**
 * More than the reply's encoding (in an Envelope) can take, found without encoding it: a reply under the limit by
 * this count is sent as it is (every answer to a command about one client, most queries) at the cost of a walk over
 * its fields.
 */
export function bytesAtMost(reply: Reply): number {
  return encodedBytesAtMost(ENVELOPE, { reply });
}

export function replyPages(reply: Reply, maxFrameBytes: number, paged: boolean): Reply[] {
  if (bytesAtMost(reply) <= maxFrameBytes) return [reply];
  const whole = encodeEnvelope({ reply }).length;
  if (whole <= maxFrameBytes) return [reply];
  if (!paged) {
    const error = `the answer is ${whole} bytes, over the ${maxFrameBytes}-byte frame limit, and this client does not take it in pages`;
    return [{ requestId: reply.requestId, error, errorCode: ErrorCode.TooLarge }];
  }
  const last: Reply = { ...reply };
  for (const { name } of LISTS) delete last[name];
  // Every page has room for what the last one carries besides its lists, and for the Envelope's length growing with the page.
  const budget = maxFrameBytes - bytesAtMost({ ...last, partial: true }) - MAX_VARINT_BYTES;
  const pages: Reply[] = [];
  let page: Reply = { requestId: reply.requestId };
  let used = 0;
  for (const { name, bytes } of LISTS) {
    for (const entry of reply[name] ?? []) {
      const cost = bytes(entry);
      if (cost > budget) throw new ReplyTooLargeError(`one entry of the answer (${name}) is ${cost} bytes, over the ${maxFrameBytes}-byte frame limit`);
      if (used + cost > budget) {
        pages.push({ ...page, partial: true });
        page = { requestId: reply.requestId };
        used = 0;
      }
      ((page[name] ??= []) as unknown[]).push(entry);
      used += cost;
    }
  }
  pages.push({ ...page, ...last });
  return pages;
}

/** The answer the pages came from: their lists one after another, and the other fields of the last. */
export function mergePages(pages: Reply[]): Reply {
  const { partial: _, ...last } = pages[pages.length - 1]!;
  const merged: Reply = { ...last };
  for (const { name } of LISTS) {
    const entries = pages.flatMap((page) => (page[name] ?? []) as never[]);
    if (entries.length > 0) (merged[name] as never[]) = entries;
    else delete merged[name];
  }
  return merged;
}
