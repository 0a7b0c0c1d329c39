/**
 * Picks the worker for a client's event. `sticky` (the default) keeps each client on one worker while that
 * worker lives, so its events are handled in order; new clients are spread round-robin. `random` picks any
 * worker for every event (no ordering across a client's events).
 */
export type RouterKind = 'sticky' | 'random';

export interface Routable {
  workerKey: string | undefined;
}

export class Router {
  private readonly keys: string[] = [];
  private next = 0;

  constructor(private readonly kind: RouterKind) {}

  get workerCount(): number {
    return this.keys.length;
  }

  add(key: string): void {
    if (!this.keys.includes(key)) this.keys.push(key);
  }

  remove(key: string): void {
    const index = this.keys.indexOf(key);
    if (index >= 0) this.keys.splice(index, 1);
  }

  has(key: string): boolean {
    return this.keys.includes(key);
  }

  /** The worker key for this client's next event, or undefined when no worker is connected. */
  pick(client: Routable): string | undefined {
    if (this.keys.length === 0) return undefined;
    if (this.kind === 'random') return this.keys[Math.floor(Math.random() * this.keys.length)];
    if (client.workerKey !== undefined && this.has(client.workerKey)) return client.workerKey;
    this.next = (this.next + 1) % this.keys.length;
    client.workerKey = this.keys[this.next];
    return client.workerKey;
  }
}
