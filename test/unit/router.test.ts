import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Router, type Routable } from '../../runtime/gateway/router.js';

function newClient(): Routable {
  return { workerKey: undefined };
}

function countBy(keys: Array<string | undefined>): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

describe('Router, sticky', () => {
  it('has no worker to pick when none is connected', () => {
    const router = new Router('sticky');
    const client = newClient();
    assert.equal(router.pick(client), undefined);
    assert.equal(client.workerKey, undefined);
    router.add('w1');
    router.remove('w1');
    assert.equal(router.pick(client), undefined);
  });

  it('adds a worker once and removes it', () => {
    const router = new Router('sticky');
    router.add('w1');
    router.add('w1');
    router.add('w2');
    assert.equal(router.workerCount, 2);
    assert.equal(router.has('w1'), true);
    router.remove('w1');
    router.remove('w1');
    router.remove('never-added');
    assert.equal(router.workerCount, 1);
    assert.equal(router.has('w1'), false);
  });

  it('keeps a client on its worker while that worker lives', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2', 'w3']) router.add(key);
    const client = newClient();
    const first = router.pick(client);
    assert.ok(first);
    assert.equal(client.workerKey, first);
    // Other clients arriving, and workers coming and going, do not move it.
    for (let i = 0; i < 50; i++) {
      router.pick(newClient());
      if (i === 10) router.add('w4');
      if (i === 20) router.remove(['w1', 'w2', 'w3'].find((key) => key !== first)!);
      assert.equal(router.pick(client), first);
    }
  });

  it('moves a client to a live worker when its worker is removed, then keeps it there', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2', 'w3']) router.add(key);
    const client = newClient();
    const first = router.pick(client)!;
    router.remove(first);
    const second = router.pick(client);
    assert.ok(second !== undefined && second !== first && router.has(second));
    assert.equal(client.workerKey, second);
    for (let i = 0; i < 20; i++) assert.equal(router.pick(client), second);
    // A returning worker of the old name does not pull the client back.
    router.add(first);
    assert.equal(router.pick(client), second);
  });

  it('spreads new clients in turn while the workers have as many clients', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2', 'w3']) router.add(key);
    const picks = Array.from({ length: 30 }, () => router.pick(newClient()));
    for (const key of ['w1', 'w2', 'w3']) assert.equal(countBy(picks).get(key), 10, `${key} got ${countBy(picks).get(key)}`);
    // Round-robin: no worker is picked twice in a row for consecutive new clients.
    for (let i = 1; i < picks.length; i++) assert.notEqual(picks[i], picks[i - 1]);
  });

  it('sends new clients to a worker added by scaling until it has its share', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2']) router.add(key);
    for (let i = 0; i < 20; i++) router.pick(newClient());
    router.add('w3');
    const picks = Array.from({ length: 10 }, () => router.pick(newClient()));
    assert.deepEqual(picks, Array(10).fill('w3'), 'the newcomers, while it has fewer clients than the others');
    const after = countBy(Array.from({ length: 30 }, () => router.pick(newClient())));
    for (const key of ['w1', 'w2', 'w3']) assert.equal(after.get(key), 10, 'then in turn');
    assert.deepEqual(['w1', 'w2', 'w3'].map((key) => router.clientsAt(key)), [20, 20, 20]);
  });

  it('counts a client gone no longer, even if it is routed once more (its close event)', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2']) router.add(key);
    const clients = Array.from({ length: 4 }, () => newClient());
    for (const client of clients) router.pick(client);
    const atW1 = clients.filter((client) => client.workerKey === 'w1');
    for (const client of atW1) router.release(client);
    assert.equal(router.clientsAt('w1'), 0);
    router.remove('w1');
    router.add('w1');
    router.pick(atW1[0]!); // its close event, rerouted: not counted again
    assert.equal(router.clientsAt('w1') + router.clientsAt('w2'), 2);
    assert.equal(router.pick(newClient()), 'w1', 'a new client takes the free place');
  });

  it('spreads evenly over the workers that remain after one is removed', () => {
    const router = new Router('sticky');
    for (const key of ['w1', 'w2', 'w3', 'w4']) router.add(key);
    for (let i = 0; i < 3; i++) router.pick(newClient());
    router.remove('w3');
    const picks = Array.from({ length: 30 }, () => router.pick(newClient()));
    const counts = countBy(picks);
    assert.equal(counts.get('w3'), undefined);
    for (const key of ['w1', 'w2', 'w4']) assert.equal(counts.get(key), 10);
  });
});

describe('Router, random', () => {
  it('has no worker to pick when none is connected', () => {
    assert.equal(new Router('random').pick(newClient()), undefined);
  });

  it('picks only live workers, and each of them over many events', () => {
    const router = new Router('random');
    for (const key of ['w1', 'w2', 'w3', 'w4']) router.add(key);
    router.remove('w2');
    const client = newClient();
    const picks = Array.from({ length: 600 }, () => router.pick(client));
    const counts = countBy(picks);
    assert.deepEqual([...counts.keys()].sort(), ['w1', 'w3', 'w4']);
    // 600 uniform picks over 3 workers: each expected 200; below 100 is astronomically unlikely.
    for (const key of ['w1', 'w3', 'w4']) assert.ok(counts.get(key)! > 100, `${key} picked ${counts.get(key)} times`);
  });

  it('does not pin a client to a worker', () => {
    const router = new Router('random');
    router.add('w1');
    router.add('w2');
    const client = newClient();
    const picks = new Set(Array.from({ length: 200 }, () => router.pick(client)));
    assert.equal(picks.size, 2);
  });
});
