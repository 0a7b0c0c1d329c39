import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { growthPerConnection, heapGivenBack, IDLE_SETTLE, idleSettled, notSettledBecause, type IdleSettled, type IdleWatch } from '../bench/idle-settle.js';
import { notSettledLines } from '../bench/report.js';
import type { MemoryResult } from '../bench/scenarios.js';
import { stageRss } from '../bench/scale-report.js';

const MiB = 1024 * 1024;
/** A gateway after 10,000 connections, 80 s watched: young generation shrunk, RSS flat, one mark-compact since the watch began. */
const settledWatch: IdleWatch = {
  watchedMs: 80_000,
  minMs: IDLE_SETTLE.afterMs,
  majorGcsAtStart: 6,
  heap: { used: 52 * MiB, total: 56 * MiB, newSpace: 1 * MiB, majorGcs: 7 },
  rss: [190, 190.2, 190.1, 190, 190.3].map((mib) => mib * MiB),
};

describe('when an idle holder\'s RSS counts (the memory bench)', () => {
  it('counts once watched long enough, a mark-compact ran, the young generation shrank and RSS held steady', () => {
    assert.equal(idleSettled(settledWatch), true);
  });

  it('not while no mark-compact has run since the watch began, however flat RSS is (old garbage may be held)', () => {
    // The 10,000-connection run that counted 1.3 KiB too many per connection: a scavenge had shrunk the young
    // generation, RSS was flat, but the arrivals' garbage in the old generation had not been collected yet.
    assert.equal(idleSettled({ ...settledWatch, heap: { ...settledWatch.heap, majorGcs: settledWatch.majorGcsAtStart } }), false);
  });

  it('not while the young generation is still grown, RSS moves, or the minimum watch has not passed', () => {
    assert.equal(idleSettled({ ...settledWatch, heap: { ...settledWatch.heap, newSpace: 16 * MiB } }), false);
    assert.equal(idleSettled({ ...settledWatch, rss: [190, 190, 190, 190, 195].map((mib) => mib * MiB) }), false);
    assert.equal(idleSettled({ ...settledWatch, rss: settledWatch.rss.slice(1) }), false);
    assert.equal(idleSettled({ ...settledWatch, watchedMs: IDLE_SETTLE.afterMs - 1 }), false);
  });

  it('not while V8 keeps free heap pages committed, as in the run that read 4.38 KiB committed for 2.70 used per connection', () => {
    // That gateway at 18,000: 60 MiB used, about 30 MiB more committed than used past its young generation.
    const unlucky = { used: 60 * MiB, total: 91 * MiB, newSpace: 1 * MiB, majorGcs: 7 };
    assert.equal(heapGivenBack(unlucky), false);
    assert.deepEqual(notSettledBecause({ ...settledWatch, heap: unlucky }), ['free heap not given back: 91.0 MiB committed for 60.0 MiB used']);
    // The same gateway once the pages are back (2.78 KiB committed per connection): counts.
    assert.equal(heapGivenBack({ ...unlucky, total: 64 * MiB }), true);
    // The young generation's committed pages are judged by its own rule, not counted as free heap.
    assert.equal(heapGivenBack({ ...unlucky, total: 68 * MiB, newSpace: 4 * MiB }), true);
    // The 10,000-connection gateway that counted at 5.01 KiB RSS per connection (plain ws 3.73) under a 10% rule.
    assert.equal(heapGivenBack({ used: 44.6 * MiB, total: 55.1 * MiB, newSpace: 4 * MiB, majorGcs: 7 }), false);
  });

  it('a small heap (a holder before its clients) has its room too', () => {
    assert.equal(heapGivenBack({ used: 5 * MiB, total: 8 * MiB, newSpace: 1 * MiB, majorGcs: 1 }), true);
    assert.equal(heapGivenBack({ used: 5 * MiB, total: 10 * MiB, newSpace: 1 * MiB, majorGcs: 1 }), false);
  });

  it('names every unmet condition, and none when settled', () => {
    assert.deepEqual(notSettledBecause(settledWatch), []);
    assert.deepEqual(notSettledBecause({ ...settledWatch, watchedMs: 10_000, heap: { ...settledWatch.heap, majorGcs: 6, newSpace: 16 * MiB }, rss: [] }),
      ['watched 10 s of 75', 'no mark-compact since the watch began', 'young generation 16.0 MiB', 'RSS not steady for 2 s']);
  });

  it('the memory report says which holder did not settle, at which count and stage, and why', () => {
    const result = (notSettled: MemoryResult['notSettledBecause']): MemoryResult => ({ connections: 18_000, rssBefore: 0, rssAfter: 0, heapBefore: 0, heapAfter: 0, heapCommittedBefore: 0,
      heapCommittedAfter: 0, rssPerConnection: 0, heapPerConnection: 0, heapCommittedPerConnection: 0, majorGcs: 1, settled: notSettled.before.length + notSettled.after.length === 0, notSettledBecause: notSettled });
    const lines = notSettledLines({ gwc: result({ before: [], after: ['free heap not given back: 91.0 MiB committed for 60.0 MiB used'] }), plain: result({ before: [], after: [] }) });
    assert.deepEqual(lines, ['GatewayCluster gateway at 18,000, with its clients: free heap not given back: 91.0 MiB committed for 60.0 MiB used']);
  });
});

describe('RSS per connection over several holders (the scale bench)', () => {
  const reading = (rssMiB: number, settled: boolean): IdleSettled => ({ rss: rssMiB * MiB, heapUsed: 0, heapTotal: 0, majorGcs: settled ? 1 : 0, newSpace: MiB, settled, notSettledBecause: settled ? [] : ['no mark-compact since the watch began'] });
  // Two holders settled at 4 KiB per connection; a third saw no mark-compact and still holds 20 MiB of the arrivals' garbage.
  const holders = [
    { connections: 1024, before: reading(50, true), after: reading(54, true) },
    { connections: 1024, before: reading(50, true), after: reading(54, true) },
    { connections: 1024, before: reading(50, true), after: reading(74, false) },
  ];

  it('counts the settled holders apart from the others, and says how many they are', () => {
    const growth = growthPerConnection(holders);
    assert.equal(growth.settled, 4096);
    assert.equal(growth.settledHolders, 2);
    assert.equal(growth.all, (4 + 4 + 24) * MiB / 3072);
  });

  it('a holder that did not settle before any client is not counted as settled either', () => {
    const growth = growthPerConnection([{ ...holders[0]!, before: reading(50, false) }, holders[1]!]);
    assert.equal(growth.settledHolders, 1);
    assert.equal(growth.settled, 4096);
  });

  it('none settled: no settled figure, and the report says so beside the figure over all', () => {
    const growth = growthPerConnection([holders[2]!]);
    assert.ok(Number.isNaN(growth.settled));
    const stage = { connections: 1024, acceptsPerSecond: [1], cpu: { holder: 0, generator: 0, machine: 0 }, rssPerConnection: growth.all, settledRssPerConnection: growth.settled,
      holders: [{ settled: false, majorGcs: 0, newSpace: MiB, watchedSeconds: 255 }] };
    assert.equal(stageRss(stage), 'none of 1 settled; all: 24.00 KiB');
    assert.equal(stageRss({ ...stage, settledRssPerConnection: 4096, holders: [{ settled: true, majorGcs: 1, newSpace: MiB, watchedSeconds: 80 }] }), '4.00 KiB (all 1 settled)');
  });
});
