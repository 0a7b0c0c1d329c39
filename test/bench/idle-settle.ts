/**
 * When an idle holder's RSS counts (the memory and scale scenarios). Its own file, without the bench's processes, so
 * the rule can be unit tested (test/unit/idle-settle.test.ts).
 */

/** What a holder tells of its V8 heap (targets.ts reads it from the gateway's Prometheus page or plain ws's /stats). */
export interface HeapReading {
  used: number;
  /** What V8 has committed for the heap, all spaces (heapTotal): pages it holds, not all of them resident. */
  total: number;
  /** The young generation's committed size. */
  newSpace: number;
  /** Mark-compacts (full GCs) since the process started. */
  majorGcs: number;
}

/**
 * V8 keeps the young generation it grew while busy (up to 16 MiB semi-spaces: 27 to 36 MiB of RSS after 10,000
 * connections arrive), and the old generation's garbage, until its memory reducer finds the allocation rate low and
 * collects and shrinks both; in a process doing nothing at all that may not come for minutes. RSS is flat all that
 * time, then drops, so "stable for 2 s" alone measures the grown heap, after the connections and before them too.
 * So the holder is asked for its heap every `pollMs` (a small allocation, as a monitoring scrape is; asked every 500
 * ms, a gateway's Prometheus page keeps the allocation rate from ever looking low), and its RSS counts once:
 * - it has been watched `beforeMs` (idle, before any client) or `afterMs` (after the connections): the reducer ran
 *   by 10 to 20 s after a start and 27 to 55 s after 10,000 connections arrived in every run looked at;
 * - a mark-compact has run since the watch began. Without it the old generation may still hold what the arrivals
 *   left (upgrade requests and the like promoted while the connections came): a 10,000-connection gateway once
 *   counted as settled with 13 MiB more old-generation heap than at 18,000, its young generation shrunk by a
 *   scavenge but its old garbage not yet collected (1.3 KiB too many per connection);
 * - its young generation is at most `newSpaceBytes`;
 * - V8 has given back its free heap pages (see heapGivenBack): a mark-compact frees pages, but V8 may keep them
 *   committed, resident once touched, for a while; one run read 30 MiB of them at 18,000 connections (4.38 KiB
 *   committed against 2.70 used per connection), and that one moment decided parity with plain ws. A gateway pings
 *   its clients (every 25 s), plain ws does not: their pongs' garbage keeps its allocation up, and its memory reducer
 *   then gives the pages back later (118 s after 10,000 connections arrived in one run, not within 135 s at 18,000);
 *   10% of the used heap let a 10,000-connection gateway count at 55.1 MiB committed for 44.6 used (5.01 KiB RSS
 *   per connection against plain ws's 3.73), so 5%; settled runs read 1 to 3 MiB past used and young generation;
 * - RSS has then stayed within 0.5% for 2 s.
 * Both systems alike; `timeoutMs` past the minimum gives up (settled: false, the report says which condition failed).
 */
export const IDLE_SETTLE = {
  beforeMs: 30_000, afterMs: 75_000, newSpaceBytes: 4 * 1024 * 1024, pollMs: 5000, timeoutMs: 120_000, rssEveryMs: 500,
  /** Committed heap past the used heap and the young generation that still counts as given back: this plus `freeHeapShare` of the used heap. */
  freeHeapBytes: 2 * 1024 * 1024,
  freeHeapShare: 0.05,
};

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Committed heap that is neither used nor the young generation's (bounded apart by `newSpaceBytes`): free pages of
 * the old generation and the other spaces, plus the holes in their pages a mark-compact leaves.
 */
export function freeHeap(heap: HeapReading): number {
  return heap.total - heap.newSpace - heap.used;
}

/** Whether V8 has given back its free heap pages: committed heap close to used heap (see IDLE_SETTLE). */
export function heapGivenBack(heap: HeapReading): boolean {
  return freeHeap(heap) <= IDLE_SETTLE.freeHeapBytes + IDLE_SETTLE.freeHeapShare * heap.used;
}

/** Whether the last 5 RSS samples (2 s at one each 500 ms) are within 0.5% of each other. */
export function heldSteady(samples: readonly number[]): boolean {
  const recent = samples.slice(-5);
  return recent.length === 5 && Math.max(...recent) - Math.min(...recent) <= 0.005 * Math.max(...recent);
}

export interface IdleWatch {
  /** How long the holder has been watched, and the least that counts. */
  watchedMs: number;
  minMs: number;
  /** The holder's mark-compacts when the watch began. */
  majorGcsAtStart: number;
  /** The latest heap reading. */
  heap: HeapReading;
  /** RSS samples since that reading. */
  rss: readonly number[];
}

/** What keeps the holder's RSS from counting now (see IDLE_SETTLE), each condition in words; none: it counts. */
export function notSettledBecause(watch: IdleWatch): string[] {
  const { heap } = watch;
  const reasons: string[] = [];
  if (watch.watchedMs < watch.minMs) reasons.push(`watched ${(watch.watchedMs / 1000).toFixed(0)} s of ${(watch.minMs / 1000).toFixed(0)}`);
  if (heap.majorGcs <= watch.majorGcsAtStart) reasons.push('no mark-compact since the watch began');
  if (heap.newSpace > IDLE_SETTLE.newSpaceBytes) reasons.push(`young generation ${mib(heap.newSpace)}`);
  if (!heapGivenBack(heap)) reasons.push(`free heap not given back: ${mib(heap.total)} committed for ${mib(heap.used)} used`);
  if (!heldSteady(watch.rss)) reasons.push('RSS not steady for 2 s');
  return reasons;
}

/** Whether the holder's RSS counts now (see IDLE_SETTLE). */
export function idleSettled(watch: IdleWatch): boolean {
  return notSettledBecause(watch).length === 0;
}

export interface IdleSettled {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Mark-compacts seen while watched. */
  majorGcs: number;
  /** The young generation's committed size at the last reading (see IDLE_SETTLE.newSpaceBytes). */
  newSpace: number;
  settled: boolean;
  /** When not settled: the conditions still unmet at the deadline (see notSettledBecause). */
  notSettledBecause: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A holder's RSS and heap once settled (see IDLE_SETTLE), having been watched at least `minMs`; `timeoutMs` past it, as
 * it is then (settled: false).
 */
export async function settleIdle(heap: () => Promise<HeapReading>, rss: () => number, minMs: number, timeoutMs = IDLE_SETTLE.timeoutMs): Promise<IdleSettled> {
  const started = Date.now();
  const deadline = started + minMs + timeoutMs;
  let reading = await heap();
  const majorGcsAtStart = reading.majorGcs;
  let polled = Date.now();
  const samples: number[] = [];
  for (;;) {
    samples.push(rss());
    const reasons = notSettledBecause({ watchedMs: Date.now() - started, minMs, majorGcsAtStart, heap: reading, rss: samples });
    const settled = reasons.length === 0;
    if (settled || Date.now() > deadline) {
      return { rss: samples.at(-1)!, heapUsed: reading.used, heapTotal: reading.total, majorGcs: reading.majorGcs - majorGcsAtStart, newSpace: reading.newSpace, settled, notSettledBecause: reasons };
    }
    await sleep(IDLE_SETTLE.rssEveryMs);
    if (Date.now() - polled >= IDLE_SETTLE.pollMs) {
      reading = await heap();
      polled = Date.now();
      samples.length = 0; // RSS counts from the reading on
    }
  }
}

/** One holder of several: its RSS before any client and with its `connections`, each settled or not. */
export interface HolderGrowth {
  connections: number;
  before: IdleSettled;
  after: IdleSettled;
}

/** A holder counts as settled only if it settled both before its clients came and after. */
export function holderSettled(holder: HolderGrowth): boolean {
  return holder.before.settled && holder.after.settled;
}

export interface GrowthPerConnection {
  /** Every holder's RSS growth over every connection, settled or not: what the processes hold now. */
  all: number;
  /** The same over the holders that settled both before and after (NaN when none did), and how many did. */
  settled: number;
  settledHolders: number;
}

/**
 * RSS growth per connection over several holders. A holder that saw no mark-compact while watched may hold the
 * arrivals' old garbage (see IDLE_SETTLE), so the settled holders are counted apart, not mixed with the others.
 */
export function growthPerConnection(holders: readonly HolderGrowth[]): GrowthPerConnection {
  const sum = (list: readonly HolderGrowth[]) => ({
    growth: list.reduce((total, h) => total + h.after.rss - h.before.rss, 0),
    connections: list.reduce((total, h) => total + h.connections, 0),
  });
  const all = sum(holders);
  const settledOnes = holders.filter(holderSettled);
  const settled = sum(settledOnes);
  return { all: all.growth / all.connections, settled: settledOnes.length > 0 ? settled.growth / settled.connections : NaN, settledHolders: settledOnes.length };
}
