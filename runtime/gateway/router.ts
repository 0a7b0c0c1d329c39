/**
 * Picks the worker for a client's event. `sticky` (the default) keeps each client on one worker while that
 * worker lives, so its events are handled in order; a new client (or one whose worker went away) goes to the worker
 * with the fewest clients, so a worker added by scaling gets the newcomers until it has its share (ties: in turn).
 * `random` picks any worker for every event (no ordering across a client's events).
 */
export type RouterKind = 'sticky' | 'random';

export interface Routable {
  workerKey: string | undefined;
  /** The worker whose count holds this client; null once the client is gone (it is never counted again). */
  countedAt?: string | null | undefined;
}

const anyWorker = () => true;

export class Router {
  private readonly keys: string[] = [];
  /** Clients per worker, for sticky routing. */
  private readonly counts = new Map<string, number>();
  private next = 0;

  constructor(private readonly kind: RouterKind) {}

  get workerCount(): number {
    return this.keys.length;
  }

  add(key: string): void {
    if (this.keys.includes(key)) return;
    this.keys.push(key);
    this.counts.set(key, 0);
  }

  remove(key: string): void {
    const index = this.keys.indexOf(key);
    if (index >= 0) this.keys.splice(index, 1);
    this.counts.delete(key);
  }

  has(key: string): boolean {
    return this.keys.includes(key);
  }

  /** Clients counted at `key`. */
  clientsAt(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /**
   * The worker key for this client's next event, or undefined when no worker is connected, or none is `eligible`
   * (when given: a sticky client whose worker is not is moved to the least loaded one that is).
   */
  pick(client: Routable, eligible: (key: string) => boolean = anyWorker): string | undefined {
    if (this.kind === 'random') {
      const keys = eligible === anyWorker ? this.keys : this.keys.filter(eligible);
      return keys[Math.floor(Math.random() * keys.length)];
    }
    if (client.workerKey !== undefined && this.has(client.workerKey) && eligible(client.workerKey)) return client.workerKey;
    const key = this.leastLoaded(eligible);
    if (key === undefined) return undefined;
    this.count(client, key);
    client.workerKey = key;
    return key;
  }

  /** The client is gone: it no longer counts at its worker. */
  release(client: Routable): void {
    this.uncount(client);
    client.countedAt = null;
  }

  private leastLoaded(eligible: (key: string) => boolean): string | undefined {
    let best: string | undefined;
    for (let i = 1; i <= this.keys.length; i++) {
      const key = this.keys[(this.next + i) % this.keys.length]!;
      if (eligible(key) && (best === undefined || this.clientsAt(key) < this.clientsAt(best))) best = key;
    }
    if (best !== undefined) this.next = this.keys.indexOf(best);
    return best;
  }

  private count(client: Routable, key: string): void {
    if (client.countedAt === null) return;
    this.uncount(client);
    this.counts.set(key, this.clientsAt(key) + 1);
    client.countedAt = key;
  }

  private uncount(client: Routable): void {
    const at = client.countedAt;
    if (at && this.counts.has(at)) this.counts.set(at, Math.max(0, this.counts.get(at)! - 1));
    client.countedAt = undefined;
  }
}
