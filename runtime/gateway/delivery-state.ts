import type { ClientEvent } from '../wire/types.js';
import type { Routable } from './router.js';

/** Stops and restarts reading from a client: how a busy worker slows its client down. */
export interface ReadingControl {
  pauseReading(): void;
  resumeReading(): void;
}

/**
 * What event delivery keeps about one client. Only event delivery (event-delivery.ts, worker-link.ts) and the router
 * change it; test/unit/client-ownership.test.ts holds every other file to that. Two invariants hold by construction:
 * - `inFlight` is the sum of the client's holdings at the workers: worker-link.ts changes both together;
 * - the client is not read from exactly while it has events waiting: only the methods below change `waiting`.
 * The base class of Client, reached only by the name deliveryState: one object per connection rather than two (a
 * second object's header and the two pointers between them, 40 bytes per connection).
 */
export abstract class DeliveryState implements Routable, ReadingControl {
  /** The worker this client's events go to (sticky routing). */
  workerKey: string | undefined;
  /** The worker whose client count holds this client (see Router); null once its Close was dispatched. */
  countedAt: string | null | undefined;
  /** Events sent to a worker and not yet acknowledged. */
  inFlight = 0;
  /** The worker running this client's suspect event (see EventDelivery): its later events wait for that one. */
  suspectAt: string | undefined;
  private queue: ClientEvent[] | undefined;

  abstract pauseReading(): void;
  abstract resumeReading(): void;

  /** Its Close was dispatched (the router released it for good): nothing else of it comes. */
  get closed(): boolean {
    return this.countedAt === null;
  }

  /** Events held, in order, until a worker can take them; undefined when none are. */
  get waiting(): readonly ClientEvent[] | undefined {
    return this.queue;
  }

  /** Holds the event behind those waiting. */
  hold(event: ClientEvent): void {
    if (this.queue) this.queue.push(event);
    else this.start([event]);
  }

  /** Holds events ahead of those waiting (they came first). */
  holdFirst(events: ClientEvent[]): void {
    if (events.length === 0) return;
    if (this.queue) this.queue = events.concat(this.queue);
    else this.start(events);
  }

  /** The first event waiting went to a worker; once none waits, the client is read from again. */
  shift(): void {
    this.queue!.shift();
    if (this.queue!.length === 0) this.stop();
  }

  /** What waits becomes `events` (none: the client is read from again). */
  replace(events: ClientEvent[]): void {
    if (events.length === 0) {
      if (this.queue) this.stop();
    } else if (this.queue) {
      this.queue = events;
    } else {
      this.start(events);
    }
  }

  private start(events: ClientEvent[]): void {
    this.queue = events;
    this.pauseReading();
  }

  private stop(): void {
    this.queue = undefined;
    this.resumeReading();
  }
}
