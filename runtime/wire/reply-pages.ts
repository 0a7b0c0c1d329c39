/**
 * Query answers larger than a frame: the gateway splits one into pages, each a Reply under the frame limit and
 * marked partial but the last (which carries the count and any error), and the Gateway API client merges them.
 * Only a peer that offered FEATURE_PAGED_REPLIES gets pages; any other gets an error naming the size, never an
 * answer cut short.
 */
import { encodeEnvelope, replyEntryBytes } from './envelope-codec.js';
import type { Reply } from './types.js';

/** Room in every page for the envelope, the request id, the count, the error and the partial flag. */
const PAGE_OVERHEAD_BYTES = 1024;

/** Bytes of a length-delimited protobuf field: its tag (one byte here), the length as a varint, the bytes. */
const fieldBytes = (length: number) => 1 + Math.ceil(Math.max(1, Math.log2(length + 1)) / 7) + length;

/** Framing of one protobuf field at most: a one-byte tag and a length (or value) of up to 5 varint bytes. */
const FIELD_BYTES = 6;
/** Encoded bytes of a string at most: 3 per UTF-16 unit, its framing. */
const stringBytes = (value: string | undefined) => (value === undefined ? 0 : FIELD_BYTES + 3 * value.length);

/**
 * More than the reply's encoding can take, found without encoding it: a reply under the limit by this count is sent
 * as it is (every answer to a command about one client, most queries) at the cost of a walk over its fields.
 */
export function bytesAtMost(reply: Reply): number {
  let bytes = 5 * FIELD_BYTES + stringBytes(reply.error); // the envelope, request id, count (a uint64: 11) and partial flag
  for (const client of reply.clients ?? []) bytes += 4 * FIELD_BYTES + 3 * client.clientId.length + 3 * (client.uid?.length ?? 0) + (client.session?.length ?? 0);
  for (const id of reply.ids ?? []) bytes += stringBytes(id);
  for (const group of reply.groups ?? []) {
    bytes += 3 * FIELD_BYTES + stringBytes(group.group);
    for (const id of group.clientIds ?? []) bytes += stringBytes(id);
    for (const uid of group.uids ?? []) bytes += stringBytes(uid);
  }
  return bytes;
}

export function replyPages(reply: Reply, maxFrameBytes: number, paged: boolean): Reply[] {
  if (bytesAtMost(reply) <= maxFrameBytes) return [reply];
  const whole = encodeEnvelope({ reply }).length;
  if (whole <= maxFrameBytes) return [reply];
  if (!paged) {
    return [{ requestId: reply.requestId, error: `the answer is ${whole} bytes, over the ${maxFrameBytes}-byte frame limit, and this client does not take it in pages` }];
  }
  const budget = maxFrameBytes - PAGE_OVERHEAD_BYTES;
  const pages: Reply[] = [];
  let page: Reply = { requestId: reply.requestId };
  let used = 0;
  const add = <K extends 'clients' | 'ids' | 'groups'>(field: K, entry: NonNullable<Reply[K]>[number], bytes: number) => {
    const cost = fieldBytes(bytes);
    if (cost > budget) throw new Error(`one entry of the answer (${field}) is ${bytes} bytes, over the ${maxFrameBytes}-byte frame limit`);
    if (used + cost > budget) {
      pages.push({ ...page, partial: true });
      page = { requestId: reply.requestId };
      used = 0;
    }
    ((page[field] ??= []) as Array<typeof entry>).push(entry);
    used += cost;
  };
  for (const client of reply.clients ?? []) add('clients', client, replyEntryBytes('client', client));
  for (const id of reply.ids ?? []) add('ids', id, Buffer.byteLength(id));
  for (const group of reply.groups ?? []) add('groups', group, replyEntryBytes('group', group));
  pages.push({ ...page, ...(reply.count !== undefined ? { count: reply.count } : {}), ...(reply.error ? { error: reply.error } : {}) });
  return pages;
}

/** The answer the pages came from: their lists one after another, the count and error of the last. */
export function mergePages(pages: Reply[]): Reply {
  const last = pages[pages.length - 1]!;
  const merged: Reply = { requestId: last.requestId };
  for (const field of ['clients', 'ids', 'groups'] as const) {
    const entries = pages.flatMap((page) => (page[field] ?? []) as never[]);
    if (entries.length > 0) (merged[field] as never[]) = entries;
  }
  if (last.count !== undefined) merged.count = last.count;
  if (last.error) merged.error = last.error;
  return merged;
}
