/**
 * EventDelivery's flow control in-process, through the WorkerConnection seam: the window arithmetic (a client's fair
 * share, the twice-the-window rule for a client holding nothing, the bytes window, the client window), the order of
 * redelivered events, a draining worker handing its clients over, and the invariants the delivery state keeps
 * (a client's in-flight count is what its workers hold of it; a client is paused exactly while events of its wait).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Client } from '../../runtime/gateway/client.js';
import { EventDelivery, type EventDeliveryOptions } from '../../runtime/gateway/event-delivery.js';
import { EventKind, toNumber, type ClientEvent } from '../../runtime/wire/types.js';
import { FakeClientTransport, FakeWorkerConnection, testClient, testDeliveryOptions } from '../fixtures/gateway-parts.js';

/**
 * An EventDelivery with fake workers and clients. What a fake worker holds is kept from outside: what it received,
 * less what it acknowledged (ack() takes those off).
 */
class Bench {
  readonly delivery: EventDelivery;
  readonly workers = new Map<string, FakeWorkerConnection>();
  readonly clients = new Map<string, { client: Client; transport: FakeClientTransport }>();
  private sequence = 0;

  constructor(options: Partial<Omit<EventDeliveryOptions, 'quarantined'>> = {}) {
    this.delivery = new EventDelivery(testDeliveryOptions(options));
  }

  addWorker(key: string): FakeWorkerConnection {
    const worker = new FakeWorkerConnection();
    this.workers.set(key, worker);
    this.delivery.addWorker(key, worker);
    return worker;
  }

  /** The worker's link is lost: it died, unless it announced a drain first. */
  lose(key: string): void {
    this.workers.delete(key);
    this.delivery.removeWorker(key);
  }

  client(id: string): Client {
    let entry = this.clients.get(id);
    if (!entry) {
      const transport = new FakeClientTransport();
      entry = { client: testClient(id, transport), transport };
      this.clients.set(id, entry);
    }
    return entry.client;
  }

  paused(id: string): boolean {
    return this.clients.get(id)!.transport.paused;
  }

  /** Dispatches an event of the client's (a message of `bytes` bytes unless a kind is given); its sequence. */
  send(id: string, bytes = 1, kind = EventKind.Message): number {
    const event: ClientEvent = { kind, clientId: id, sequence: ++this.sequence };
    if (kind === EventKind.Message) event.body = Buffer.alloc(bytes);
    assert.ok(this.delivery.dispatch(this.client(id), event), 'the event had room');
    return this.sequence;
  }

  /** The worker acknowledges the first `count` events it holds (all by default); their sequences. */
  ack(key: string, count = Infinity): number[] {
    const worker = this.workers.get(key)!;
    const done = worker.received.splice(0, count);
    this.delivery.acknowledged(key, done.map((event) => event.sequence!));
    return done.map((event) => toNumber(event.sequence));
  }

  /** Sequences the worker holds unacknowledged, optionally of one client only. */
  holds(key: string, id?: string): number[] {
    return this.workers
      .get(key)!
      .received.filter((event) => id === undefined || event.clientId === id)
      .map((event) => toNumber(event.sequence));
  }

  /** The invariants, each client against what the fake workers hold of it. */
  checkInvariants(): void {
    let held = 0;
    for (const worker of this.workers.values()) held += worker.received.length;
    assert.equal(this.delivery.unacknowledged, held, 'unacknowledged: what the workers hold');
    let waiting = 0;
    for (const [id, { client, transport }] of this.clients) {
      const inFlight = [...this.workers.values()].reduce((sum, worker) => sum + worker.received.filter((e) => e.clientId === id).length, 0);
      assert.equal(client.deliveryState.inFlight, inFlight, `${id}: inFlight is the sum of its holdings`);
      const queued = client.deliveryState.waiting;
      assert.equal(queued !== undefined, transport.paused, `${id}: paused exactly while events wait`);
      assert.equal(client.paused, transport.paused, `${id}: the client knows it is paused`);
      assert.ok(queued === undefined || queued.length > 0, `${id}: no empty waiting list`);
      waiting += queued?.length ?? 0;
    }
    assert.equal(this.delivery.waiting, waiting, 'waiting: what the clients hold back');
  }
}

describe('EventDelivery: the window arithmetic', () => {
  it('gives a client alone at a worker a fair share of a quarter of the window, then holds it until an ack', () => {
    const bench = new Bench({ window: 16 });
    bench.addWorker('w1');
    const sent = Array.from({ length: 6 }, () => bench.send('a'));
    assert.deepEqual(bench.holds('w1'), sent.slice(0, 4), 'floor(16 / (2 * (1 holder + 1 to come))) = 4');
    assert.equal(bench.paused('a'), true);
    assert.equal(bench.delivery.waiting, 2);
    bench.checkInvariants();

    bench.ack('w1', 1);
    assert.deepEqual(bench.holds('w1'), sent.slice(1, 5), 'one acknowledged, one more sent');
    assert.equal(bench.paused('a'), true);
    bench.ack('w1', 1);
    assert.deepEqual(bench.holds('w1'), sent.slice(2, 6));
    assert.equal(bench.paused('a'), false, 'nothing waits: read again');
    bench.checkInvariants();
  });

  it('shrinks each share as clients come: with three holding, floor(16 / 8) = 2 each', () => {
    const bench = new Bench({ window: 16 });
    bench.addWorker('w1');
    for (const id of ['a', 'b', 'c']) bench.send(id);
    for (let i = 0; i < 3; i++) for (const id of ['a', 'b', 'c']) bench.send(id);
    for (const id of ['a', 'b', 'c']) assert.equal(bench.holds('w1', id).length, 2, `${id} holds its share`);
    bench.checkInvariants();
  });

  it('lets a client holding nothing send one event until the worker holds twice its window, and no further', () => {
    const bench = new Bench({ window: 4 });
    bench.addWorker('w1');
    // Four clients fill the window with one each: none of them may send a second.
    for (const id of ['a', 'b', 'c', 'd']) bench.send(id);
    bench.send('a');
    assert.equal(bench.holds('w1', 'a').length, 1, 'a holder waits once the window is full');
    assert.equal(bench.paused('a'), true);
    // Fresh clients still get their first event in, up to twice the window.
    for (const id of ['e', 'f', 'g', 'h', 'i']) bench.send(id);
    assert.equal(bench.holds('w1').length, 8);
    assert.deepEqual(['e', 'f', 'g', 'h', 'i'].map((id) => bench.paused(id)), [false, false, false, false, true]);
    bench.checkInvariants();

    // Once a's event is acknowledged, a holds nothing there: its next goes, and the worker is at twice its window again.
    bench.ack('w1', 1);
    assert.equal(bench.holds('w1', 'a').length, 1);
    assert.equal(bench.holds('w1').length, 8);
    assert.equal(bench.paused('i'), true);
    bench.checkInvariants();
  });

  it('counts message bytes the same way: a lone client takes a quarter of the bytes window', () => {
    const bench = new Bench({ windowBytes: 1000 });
    bench.addWorker('w1');
    for (let i = 0; i < 5; i++) bench.send('a', 100);
    assert.equal(bench.holds('w1', 'a').length, 3, '100, 200 then 300 bytes held: past 1000 / 4 after the third');
    // A client holding nothing sends one however large, while the worker holds less than twice the bytes window.
    bench.send('b', 1700);
    assert.equal(bench.holds('w1', 'b').length, 1);
    bench.send('c', 1);
    assert.equal(bench.holds('w1', 'c').length, 0, '2000 bytes held: even a fresh client waits');
    bench.checkInvariants();
    bench.ack('w1');
    assert.deepEqual([bench.holds('w1', 'a').length, bench.holds('w1', 'c').length], [2, 1]);
    bench.checkInvariants();
  });

  it('holds a client at its client window until its own events are acknowledged, whatever room the worker has', () => {
    const bench = new Bench({ clientWindow: 2 });
    bench.addWorker('w1');
    const sent = [bench.send('a'), bench.send('a'), bench.send('a')];
    assert.deepEqual(bench.holds('w1'), sent.slice(0, 2));
    bench.send('b');
    assert.equal(bench.holds('w1', 'b').length, 1, 'other clients are not held');
    bench.ack('w1', 1);
    assert.deepEqual(bench.holds('w1', 'a'), sent.slice(1));
    bench.checkInvariants();
  });
});

describe('EventDelivery: redelivery and drains', () => {
  it('redelivers what a lost worker held, in order and flagged, ahead of what the client sent since', () => {
    const bench = new Bench({ window: 16 });
    bench.addWorker('w1');
    const sent = Array.from({ length: 6 }, () => bench.send('a'));
    assert.deepEqual(bench.holds('w1'), sent.slice(0, 4));
    bench.delivery.drainWorker('w1'); // stopped, not died: no suspects, so all is redelivered at once
    bench.lose('w1');
    assert.equal(bench.delivery.waiting, 6, 'everything waits for a worker');
    assert.equal(bench.paused('a'), true);
    bench.checkInvariants();

    const w2 = bench.addWorker('w2');
    assert.deepEqual(bench.holds('w2'), sent.slice(0, 4), 'the held ones first, as many as the share allows');
    assert.deepEqual(w2.received.map((e) => e.redelivery ?? false), [true, true, true, true]);
    bench.ack('w2');
    bench.ack('w2');
    assert.deepEqual(bench.delivery.waiting, 0);
    assert.equal(bench.paused('a'), false);
    bench.checkInvariants();
  });

  it('redelivers a dead worker\'s events one suspect at a time, still in the client\'s order', () => {
    const bench = new Bench();
    bench.addWorker('w1');
    const sent = [bench.send('a'), bench.send('a'), bench.send('a')];
    bench.lose('w1');
    bench.addWorker('w2');
    const handled: number[] = [];
    for (let step = 0; step < 10 && handled.length < sent.length; step++) handled.push(...bench.ack('w2'));
    assert.deepEqual(handled, sent);
    bench.checkInvariants();
  });

  it('keeps a draining worker\'s clients on it until it has acknowledged their events, then moves them on in order', () => {
    const bench = new Bench();
    bench.addWorker('w1');
    bench.send('a');
    bench.send('a');
    bench.addWorker('w2');
    bench.delivery.drainWorker('w1');
    const later = [bench.send('a'), bench.send('a')];
    assert.deepEqual(bench.holds('w2'), [], 'not ahead of its earlier events');
    assert.equal(bench.paused('a'), true);
    const fresh = bench.send('b');
    assert.deepEqual(bench.holds('w2'), [fresh], 'a new client goes to a worker that is not draining');
    bench.checkInvariants();

    bench.ack('w1', 1);
    assert.deepEqual(bench.holds('w2', 'a'), [], 'one of its events is still at the draining worker');
    bench.ack('w1');
    assert.deepEqual(bench.holds('w2', 'a'), later);
    assert.equal(bench.paused('a'), false);
    assert.equal(bench.delivery.removeWorker('w1'), false, 'a drained worker did not die');
    bench.checkInvariants();
  });
});

describe('EventDelivery: the delivery state\'s invariants', () => {
  type Op =
    | { op: 'send'; client: number; bytes: number }
    | { op: 'close'; client: number }
    | { op: 'ack'; worker: number; count: number }
    | { op: 'add' }
    | { op: 'lose'; worker: number }
    | { op: 'drain'; worker: number };
  const ops = fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('send' as const), client: fc.nat(5), bytes: fc.integer({ min: 0, max: 300 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), client: fc.nat(5) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('ack' as const), worker: fc.nat(3), count: fc.integer({ min: 1, max: 5 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('add' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('lose' as const), worker: fc.nat(3) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const), worker: fc.nat(3) }) },
    ),
    { maxLength: 80 },
  );

  it('hold after every step of any run: inFlight is the sum of the holdings, and a client is paused iff events wait', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 4 }), (run, window, clientWindow) => {
        const bench = new Bench({ window, windowBytes: 600, clientWindow });
        let workers = 0;
        const closed = new Set<string>();
        bench.addWorker(`w${workers++}`);
        const workerAt = (i: number) => [...bench.workers.keys()][i % Math.max(1, bench.workers.size)];
        for (const step of run) {
          if (step.op === 'send' && !closed.has(`c${step.client}`)) bench.send(`c${step.client}`, step.bytes);
          if (step.op === 'close' && !closed.has(`c${step.client}`)) {
            closed.add(`c${step.client}`);
            bench.send(`c${step.client}`, 0, EventKind.Close);
          }
          if (step.op === 'add') bench.addWorker(`w${workers++}`);
          const key = workerAt('worker' in step ? step.worker : 0);
          if (key !== undefined && step.op === 'ack') bench.ack(key, step.count);
          if (key !== undefined && step.op === 'lose') bench.lose(key);
          if (key !== undefined && step.op === 'drain') bench.delivery.drainWorker(key);
          bench.checkInvariants();
        }
      }),
      { numRuns: 300 },
    );
  });
});
