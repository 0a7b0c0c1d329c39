/**
 * EventDelivery in-process: poison containment (--max-event-deaths) and the pending bound (--max-pending-events),
 * with fake worker connections and fake client transports, so each death and acknowledgement happens where the test
 * says. The process tests (test/process/poison-message.test.ts, pending-bound.test.ts) show the same with real ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Client } from '../../runtime/gateway/client.js';
import { EventDelivery, type EventDeliveryOptions } from '../../runtime/gateway/event-delivery.js';
import type { RouterKind } from '../../runtime/gateway/router.js';
import { EventKind, toNumber, type ClientEvent } from '../../runtime/wire/types.js';
import { FakeClientTransport, FakeWorkerConnection, testClient, testDeliveryOptions } from '../fixtures/gateway-parts.js';

interface Quarantined {
  clientId: string;
  sequence: number;
  kind: EventKind;
  deaths: number;
}

/**
 * A gateway's EventDelivery with `workers` fake workers. step() lets every worker take what it was sent since the
 * last step: a worker that got a poison event dies before acknowledging any of it (the worst case for the others),
 * and is replaced at once, as a pod is restarted; every other worker acknowledges all it got.
 */
class Simulation {
  readonly delivery: EventDelivery;
  readonly workers = new Map<string, FakeWorkerConnection>();
  readonly quarantined: Quarantined[] = [];
  /** Clients closed for a quarantined event: the gateway reads nothing more from them. */
  readonly closed = new Set<string>();
  /** Sequences acknowledged, per client id, in order. */
  readonly handled = new Map<string, number[]>();
  readonly clients = new Map<string, Client>();
  readonly transports = new Map<string, FakeClientTransport>();
  deaths = 0;
  /** The most suspects (redelivered events) one worker was sent between two steps. */
  mostSuspectsAtOnce = 0;
  private nextWorker = 0;
  private sequence = 0;

  constructor(workers: number, options: Partial<EventDeliveryOptions> = {}) {
    this.delivery = new EventDelivery(
      testDeliveryOptions({
        ...options,
        quarantined: (client, event, deaths) => {
          this.quarantined.push({ clientId: client.id, sequence: toNumber(event.sequence), kind: event.kind ?? EventKind.Connect, deaths });
          this.closed.add(client.id);
        },
      }),
    );
    for (let i = 0; i < workers; i++) this.startWorker();
  }

  startWorker(): string {
    const key = `w${++this.nextWorker}`;
    const conn = new FakeWorkerConnection();
    this.workers.set(key, conn);
    this.delivery.addWorker(key, conn);
    return key;
  }

  /** The worker is lost: died, or (drained first) stopped. */
  lose(key: string, drained = false): void {
    this.workers.delete(key);
    if (drained) this.delivery.drainWorker(key);
    this.delivery.removeWorker(key);
  }

  client(id: string): Client {
    let client = this.clients.get(id);
    if (!client) {
      const transport = new FakeClientTransport();
      client = testClient(id, transport);
      this.clients.set(id, client);
      this.transports.set(id, transport);
    }
    return client;
  }

  transport(id: string): FakeClientTransport {
    this.client(id);
    return this.transports.get(id)!;
  }

  /** Dispatches one event of the client's; its sequence, or undefined when it was refused (or the client closed). */
  send(clientId: string, kind: EventKind = EventKind.Message, body = 'hello'): number | undefined {
    if (this.closed.has(clientId) && kind !== EventKind.Close) return undefined;
    const event: ClientEvent = { kind, clientId, sequence: ++this.sequence, body: Buffer.from(body) };
    return this.delivery.dispatch(this.client(clientId), event) ? this.sequence : undefined;
  }

  /** The client closes: its Close. */
  close(clientId: string): number | undefined {
    return this.send(clientId, EventKind.Close, '');
  }

  acknowledge(key: string, events = this.take(key)): void {
    for (const event of events) this.handledBy(event.clientId!).push(toNumber(event.sequence));
    this.delivery.acknowledged(key, events.map((event) => event.sequence!));
  }

  take(key: string): ClientEvent[] {
    const conn = this.workers.get(key)!;
    const events = conn.received;
    conn.received = [];
    return events;
  }

  step(isPoison: (event: ClientEvent) => boolean): boolean {
    let anything = false;
    for (const key of [...this.workers.keys()]) {
      const got = this.take(key);
      if (got.length === 0) continue;
      anything = true;
      this.mostSuspectsAtOnce = Math.max(this.mostSuspectsAtOnce, got.filter((event) => event.redelivery).length);
      if (got.some(isPoison)) {
        this.deaths++;
        this.lose(key);
        this.startWorker();
      } else {
        this.acknowledge(key, got);
      }
    }
    return anything;
  }

  /** Steps until no worker is sent anything more. */
  settle(isPoison: (event: ClientEvent) => boolean, maxSteps = 10_000): void {
    for (let steps = 0; this.step(isPoison); steps++) assert.ok(steps < maxSteps, 'delivery settles');
  }

  handledBy(clientId: string): number[] {
    let list = this.handled.get(clientId);
    if (!list) this.handled.set(clientId, (list = []));
    return list;
  }
}

/** Runs `run` with Math.random drawing from `seed` (mulberry32), so a failing case replays as fast-check found it. */
function withRandom<T>(seed: number, run: () => T): T {
  const original = Math.random;
  let state = seed >>> 0;
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  try {
    return run();
  } finally {
    Math.random = original;
  }
}

const POISON = 'exit';
const isPoison = (event: ClientEvent) => Buffer.from(event.body ?? []).toString() === POISON;

describe('EventDelivery: poison containment', () => {
  it('quarantines a poison event after --max-event-deaths deaths, and none of the innocent events held with it', () => {
    const sim = new Simulation(3);
    const sent = new Map<string, number[]>();
    let poison: number | undefined;
    let afterPoison: number | undefined;
    for (let round = 0; round < 5; round++) {
      for (let c = 0; c < 12; c++) {
        const id = `c${c}`;
        if (id === 'c7' && round === 2) poison = sim.send(id, EventKind.Message, POISON);
        else if (id === 'c7' && round === 3) afterPoison = sim.send(id);
        else sent.set(id, [...(sent.get(id) ?? []), sim.send(id)!]);
      }
    }
    sim.settle(isPoison);

    assert.equal(sim.deaths, 3, 'three deaths: the first, then two with the poison on its own');
    assert.deepEqual(sim.quarantined, [{ clientId: 'c7', sequence: poison, kind: EventKind.Message, deaths: 3 }]);
    assert.equal(sim.delivery.stats.quarantined, 1);
    for (const [id, sequences] of sent) {
      const expected = id === 'c7' ? sequences.slice(0, 2) : sequences; // c7's rounds 0 and 1 came before its poison
      assert.deepEqual(sim.handledBy(id), expected, `${id}: every event handled once, in order`);
    }
    assert.ok(!sim.handledBy('c7').includes(afterPoison!), 'what the client sent after the poison is not delivered');
    assert.equal(sim.mostSuspectsAtOnce, 1, 'a worker holds one suspect at a time');
    assert.equal(sim.delivery.waiting, 0);
    assert.equal(sim.delivery.unacknowledged, 0);

    // The quarantined client's Close still goes to a worker, so onClose can clean up; and it is read from again.
    assert.equal(sim.transport('c7').paused, false);
    const close = sim.close('c7')!;
    sim.settle(isPoison);
    assert.deepEqual(sim.handledBy('c7').at(-1), close);
  });

  it('with --max-event-deaths 2, two deaths', () => {
    const sim = new Simulation(2, { maxDeaths: 2 });
    for (let c = 0; c < 6; c++) sim.send(`c${c}`);
    sim.send('c3', EventKind.Message, POISON);
    sim.settle(isPoison);
    assert.equal(sim.deaths, 2);
    assert.equal(sim.quarantined.length, 1);
    for (let c = 0; c < 6; c++) assert.equal(sim.handledBy(`c${c}`).length, 1);
  });

  it('sends suspects one per worker, while other events still go to that worker', () => {
    const sim = new Simulation(1);
    const [first] = sim.workers.keys();
    for (let c = 0; c < 3; c++) sim.send(`c${c}`);
    sim.take(first!);
    sim.lose(first!); // died holding three events, one per client: all three are suspects now
    const replacement = sim.startWorker();
    const got = sim.take(replacement);
    assert.equal(got.length, 1, 'one suspect at a time');
    assert.equal(got[0]!.redelivery, true);

    // A fresh client's event is no suspect: it goes to the worker at once, beside the slow suspect.
    const fresh = sim.send('fresh')!;
    assert.deepEqual(sim.take(replacement).map((e) => toNumber(e.sequence)), [fresh]);
    // The suspect's client waits behind it; the other suspects wait for the slot.
    sim.send(got[0]!.clientId!);
    assert.deepEqual(sim.take(replacement), []);
    assert.equal(sim.delivery.waiting, 3);

    // A second worker takes the next suspect at once; the first takes its next once it acknowledged its own.
    const second = sim.startWorker();
    assert.equal(sim.take(second).length, 1);
    sim.acknowledge(replacement, [got[0]!]);
    const next = sim.take(replacement);
    assert.equal(next.length, 2, 'the suspect\'s client\'s next event, and the last suspect');
    assert.equal(next.filter((e) => e.redelivery).length, 1);
  });

  it('blames nothing for a drained worker\'s loss: its events go on as usual, all at once', () => {
    const sim = new Simulation(1);
    const [first] = sim.workers.keys();
    for (let c = 0; c < 5; c++) sim.send(`c${c}`);
    sim.take(first!);
    const other = sim.startWorker();
    sim.lose(first!, true);
    const got = sim.take(other);
    assert.equal(got.length, 5, 'no isolation');
    assert.ok(got.every((e) => e.redelivery));
    sim.acknowledge(other, got);
    assert.equal(sim.quarantined.length, 0);
  });

  it('blames nothing when a worker dies holding nothing', () => {
    const sim = new Simulation(2);
    const [first] = sim.workers.keys();
    sim.lose(first!);
    for (let c = 0; c < 5; c++) sim.send(`c${c}`);
    const [only] = sim.workers.keys();
    assert.equal(sim.take(only!).length, 5);
  });

  it('quarantines two poison events sent at once, each after its own deaths, and no innocent one', () => {
    const sim = new Simulation(3);
    for (let c = 0; c < 9; c++) sim.send(`c${c}`);
    sim.send('c1', EventKind.Message, POISON);
    sim.send('c5', EventKind.Message, POISON);
    for (let c = 0; c < 9; c++) sim.send(`c${c}`);
    sim.settle(isPoison);
    assert.deepEqual(sim.quarantined.map((q) => [q.clientId, q.deaths]).sort(), [['c1', 3], ['c5', 3]]);
    assert.ok(sim.deaths <= 6, `${sim.deaths} deaths: at most three per poison`);
    for (let c = 0; c < 9; c++) assert.equal(sim.handledBy(`c${c}`).length, c === 1 || c === 5 ? 1 : 2, `c${c}`);
  });

  it('quarantines a Close that kills its workers like any other event', () => {
    const sim = new Simulation(2);
    sim.send('c0', EventKind.Connect);
    sim.send('c1', EventKind.Connect);
    sim.settle(isPoison);
    const close = sim.close('c0');
    const killsOnClose = (event: ClientEvent) => event.kind === EventKind.Close && event.clientId === 'c0';
    sim.close('c1');
    sim.settle(killsOnClose);
    assert.deepEqual(sim.quarantined, [{ clientId: 'c0', sequence: close, kind: EventKind.Close, deaths: 3 }]);
    assert.equal(sim.handledBy('c1').length, 2);
  });

  it('holds for any layout of clients, events and workers: the poison is quarantined after N deaths, every other event handled once', () => {
    const layouts = fc.record({
      workers: fc.integer({ min: 1, max: 4 }),
      maxDeaths: fc.integer({ min: 2, max: 5 }),
      router: fc.constantFrom<RouterKind>('sticky', 'random'),
      clientWindow: fc.integer({ min: 1, max: 8 }),
      window: fc.integer({ min: 2, max: 32 }),
      // Each event: which client sends it; the poison is at `poisonAt`.
      senders: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 120 }),
      poisonAt: fc.nat(),
      // Steps taken between sends: 0 sends everything before any worker takes anything.
      stepEvery: fc.integer({ min: 0, max: 10 }),
      // The random router's choices.
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(layouts, ({ workers, maxDeaths, router, clientWindow, window, senders, poisonAt, stepEvery, seed }) => withRandom(seed, () => {
        const sim = new Simulation(workers, { maxDeaths, router, clientWindow, window });
        const poisonIndex = poisonAt % senders.length;
        const poisonClient = `c${senders[poisonIndex]}`;
        const sent = new Map<string, number[]>();
        let poison = 0;
        for (const [index, sender] of senders.entries()) {
          const id = `c${sender}`;
          if (index === poisonIndex) poison = sim.send(id, EventKind.Message, POISON)!;
          else if (id !== poisonClient || index < poisonIndex) sent.set(id, [...(sent.get(id) ?? []), sim.send(id)!]);
          if (stepEvery > 0 && index % stepEvery === 0) sim.step(isPoison);
        }
        sim.settle(isPoison);
        assert.equal(sim.deaths, maxDeaths);
        assert.deepEqual(sim.quarantined.map((q) => [q.clientId, q.sequence, q.deaths]), [[poisonClient, poison, maxDeaths]]);
        assert.ok(sim.mostSuspectsAtOnce <= 1);
        for (const [id, sequences] of sent) {
          const handled = sim.handledBy(id);
          // Random routing keeps no order per client; each event is still handled once.
          const seen = router === 'sticky' ? handled : [...handled].sort((a, b) => a - b);
          if (id === poisonClient && router === 'random') {
            // Sent before the poison but to other workers: those are handled; held with it at its quarantine: dropped.
            assert.ok(seen.every((s) => sequences.includes(s)));
          } else {
            assert.deepEqual(seen, sequences, `${id}: every event handled once, in order`);
          }
        }
        assert.equal(sim.delivery.waiting, 0);
        assert.equal(sim.delivery.unacknowledged, 0);
      })),
      { numRuns: 300 },
    );
  });
});

describe('EventDelivery: flow control', () => {
  it('(random routing) sends a client at its client window its next event once its own are acknowledged, wherever they were', () => {
    for (let seed = 0; seed < 50; seed++) {
      withRandom(seed, () => {
        const sim = new Simulation(3, { router: 'random', clientWindow: 1 });
        const first = sim.send('c0')!;
        const second = sim.send('c0')!;
        const holder = [...sim.workers.keys()].find((key) => sim.workers.get(key)!.received.length > 0)!;
        sim.acknowledge(holder);
        const sent = [...sim.workers.keys()].flatMap((key) => sim.take(key)).map((event) => toNumber(event.sequence));
        assert.deepEqual([sim.handledBy('c0'), sent], [[first], [second]], `seed ${seed}`);
      });
    }
  });
});

describe('EventDelivery: the pending bound', () => {
  it('keeps no room for a client whose Close is held: it owes nothing more', () => {
    const sim = new Simulation(0, { maxWaiting: 3 });
    assert.ok(sim.close('a') !== undefined, 'a Close is held while no worker is there');
    assert.equal(sim.delivery.waiting, 1);
    // Room for b's Connect and the Close it owes: 1 waiting + 2, were a not still counted as owing its Close.
    assert.ok(sim.send('b', EventKind.Connect) !== undefined, 'room for a new client beside a closed one');
  });

  it('refuses new clients before their events once the bound is reached, and never a Close', () => {
    const MAX = 100;
    const sim = new Simulation(0, { maxWaiting: MAX });
    let admitted = 0;
    for (let i = 0; i < 1000; i++) {
      if (!sim.delivery.hasRoomForClient()) continue;
      admitted++;
      assert.ok(sim.send(`c${i}`, EventKind.Connect) !== undefined, 'an admitted client\'s Connect has room');
      assert.ok(sim.send(`c${i}`, EventKind.WebSocketConnect) !== undefined, 'and its WebSocketConnect');
      assert.ok(sim.close(`c${i}`) !== undefined, 'a Close is never refused');
      assert.ok(sim.delivery.waiting <= MAX, `${sim.delivery.waiting} pending`);
    }
    assert.equal(admitted, Math.floor(MAX / 3), 'each client takes room for three events');
    assert.equal(sim.delivery.hasRoomForClient(), false);

    // Every admitted client that has not closed still gets its Close in, past the bound.
    const sim2 = new Simulation(0, { maxWaiting: MAX });
    const open: string[] = [];
    for (let i = 0; sim2.delivery.hasRoomForClient(); i++) {
      sim2.send(`c${i}`, EventKind.Connect);
      open.push(`c${i}`);
    }
    // Messages fill what room is left; past it one is refused (and its client gets 1013).
    let messages = 0;
    while (sim2.send(open[0]!) !== undefined) messages++;
    assert.ok(messages < 3, `${messages} messages took the room left`);
    assert.ok(sim2.delivery.waiting + open.length <= MAX);
    for (const id of open) assert.ok(sim2.close(id) !== undefined);
    assert.ok(sim2.delivery.waiting <= MAX, `${sim2.delivery.waiting} pending: each client had room kept for its Close`);

    // A worker comes: everything held goes, in order.
    const worker = sim2.startWorker();
    const got = sim2.take(worker);
    assert.equal(got.length, 2 * open.length + messages);
    assert.equal(sim2.delivery.waiting, 0);
    assert.equal(sim2.delivery.hasRoomForClient(), true);
  });
});
