import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDLE_SETTLE, idleSettled, type IdleWatch } from '../bench/idle-settle.js';

const MiB = 1024 * 1024;
/** A gateway after 10,000 connections, 80 s watched: young generation shrunk, RSS flat, one mark-compact since the watch began. */
const settledWatch: IdleWatch = {
  watchedMs: 80_000,
  minMs: IDLE_SETTLE.afterMs,
  majorGcsAtStart: 6,
  heap: { used: 52 * MiB, total: 60 * MiB, newSpace: 1 * MiB, majorGcs: 7 },
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
});
