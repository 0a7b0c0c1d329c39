import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue, type Outcome } from '../../operator/controller/work-queue.js';
import { waitFor } from '../harness/wait.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('does not queue a waiting key twice', async () => {
    const seen: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue(async (key) => {
      seen.push(key);
      if (key === 'blocker') await gate.promise;
    }, () => {}, { concurrency: 1 });
    queue.add('blocker');
    queue.add('a');
    queue.add('a');
    queue.add('a');
    gate.resolve();
    await queue.idle();
    assert.deepEqual(seen, ['blocker', 'a']);
  });

  it('never runs one key twice at once, and reruns a key added while it ran', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const gate = deferred();
    const queue = new WorkQueue(async () => {
      runs++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      if (runs === 1) await gate.promise;
      concurrent--;
    }, () => {}, { concurrency: 4 });
    queue.add('k');
    await waitFor('first run to start', () => runs === 1);
    queue.add('k');
    queue.add('k');
    gate.resolve();
    await queue.idle();
    assert.equal(runs, 2);
    assert.equal(maxConcurrent, 1);
  });

  it('retries failures with growing delays and reports each', async () => {
    const attempts: number[] = [];
    const delays: number[] = [];
    const queue = new WorkQueue(async () => {
      attempts.push(Date.now());
      if (attempts.length < 4) throw new Error('not yet');
    }, (_key, _error, retryInMs) => delays.push(retryInMs), { baseRetryMs: 20 });
    queue.add('k');
    await waitFor('the fourth attempt', () => attempts.length === 4, 5000);
    assert.deepEqual(delays, [20, 40, 80]);
    assert.ok(attempts[3]! - attempts[2]! >= 75, 'the third retry waited its backoff');
    queue.stop();
  });

  it('runs a key again when its handler asks for a requeue', async () => {
    let runs = 0;
    const queue = new WorkQueue(async (): Promise<Outcome> => {
      runs++;
      return runs < 3 ? { requeueAfterMs: 10 } : undefined;
    }, () => {});
    queue.add('k');
    await waitFor('three runs', () => runs === 3, 5000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runs, 3);
    queue.stop();
  });
});

describe('WorkQueue held until resumed', () => {
  it('queues keys but handles none before resume()', async () => {
    const seen: string[] = [];
    const queue = new WorkQueue(async (key) => void seen.push(key), () => {}, { held: true });
    queue.add('a');
    queue.add('b');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, []);
    assert.equal(queue.depth, 2);
    queue.resume();
    await queue.idle();
    assert.deepEqual(seen, ['a', 'b']);
  });
});
