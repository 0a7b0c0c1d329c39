/**
 * A worker's unacknowledged events by sequence (UnackedEvents), against a Map doing the same: sequences as a gateway
 * numbers them (from Date.now() * 1000, past 32 bits), shared among workers (gaps), acknowledged out of order, old
 * ones redelivered, unknown ones acknowledged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnackedEvents } from '../../runtime/gateway/unacked-events.js';

interface Entry {
  sequence: number;
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

describe('unacknowledged events of a worker', () => {
  it('takes what was added, by sequence, whatever the order, gaps and collisions, as a Map would', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed);
      const ring = new UnackedEvents<Entry>();
      const model = new Map<number, Entry>();
      let sequence = 1_765_000_000_000_000 + seed;
      const old: number[] = [];
      for (let step = 0; step < 20_000; step++) {
        const roll = next();
        if (roll < 0.45 || model.size === 0) {
          // Sent: the next sequence, past others' (a gap), or an old one redelivered from a lost worker.
          sequence += next() < 0.3 ? 1 + Math.floor(next() * 5000) : 1;
          const redelivered = next() < 0.05 && old.length > 0 ? old.splice(Math.floor(next() * old.length), 1)[0]! : undefined;
          const entry = { sequence: redelivered ?? sequence };
          if (model.has(entry.sequence)) continue;
          ring.add(entry);
          model.set(entry.sequence, entry);
        } else if (roll < 0.95) {
          // Acknowledged: mostly the oldest, sometimes any.
          const held = [...model.keys()];
          const acked = next() < 0.7 ? Math.min(...held.slice(0, 8)) : held[Math.floor(next() * held.length)]!;
          assert.equal(ring.take(acked), model.get(acked), `seed ${seed}, step ${step}: take ${acked}`);
          model.delete(acked);
          old.push(acked);
        } else {
          assert.equal(ring.take(sequence + 1), undefined, 'an acknowledgement of nothing held');
          assert.equal(ring.take(old[0] ?? 0), undefined, 'an acknowledgement of one taken already');
        }
        assert.equal(ring.size, model.size);
        if (step % 5000 === 4999) {
          const expected = [...model.values()].sort((a, b) => a.sequence - b.sequence);
          assert.deepEqual(ring.takeAll(), expected, 'takeAll: everything, in sequence order');
          assert.equal(ring.size, 0);
          for (const { sequence: taken } of expected) assert.equal(ring.take(taken), undefined);
          model.clear();
        }
      }
    }
  });
});
