/** An event held for a worker until acknowledged, under its sequence. */
export interface Sequenced {
  readonly sequence: number;
}

const FIRST_SLOTS = 16;
/** Past this many slots (a worker holding thousands of events) a taken slot sends the event to the Map instead. */
const MAX_SLOTS = 16 * 1024;

/**
 * What one worker has not acknowledged, by sequence: in a ring, at the slot of sequence modulo its size, so that
 * sending and acknowledging leave no garbage. A Map would: V8 rebuilds its table as entries come and go, a tenth of
 * what a gateway allocated per round trip at light load. The ring doubles while it is at least half full; an event
 * whose slot is taken all the same (other workers' sequences in between, or an old one redelivered) goes to a Map.
 */
export class UnackedEvents<T extends Sequenced> {
  private slots: Array<T | undefined> = new Array<T | undefined>(FIRST_SLOTS).fill(undefined);
  private readonly overflow = new Map<number, T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(entry: T): void {
    let slot = entry.sequence & (this.slots.length - 1);
    if (this.slots[slot] !== undefined && 2 * this.count >= this.slots.length && this.slots.length < MAX_SLOTS) {
      this.grow();
      slot = entry.sequence & (this.slots.length - 1);
    }
    if (this.slots[slot] === undefined) this.slots[slot] = entry;
    else this.overflow.set(entry.sequence, entry);
    this.count++;
  }

  /** The entry with this sequence, no longer held; undefined when none is. */
  take(sequence: number): T | undefined {
    const slot = sequence & (this.slots.length - 1);
    const entry = this.slots[slot];
    if (entry !== undefined && entry.sequence === sequence) {
      this.slots[slot] = undefined;
    } else {
      const other = this.overflow.get(sequence);
      if (other === undefined) return undefined;
      this.overflow.delete(sequence);
      this.count--;
      return other;
    }
    this.count--;
    return entry;
  }

  /** Every entry, in sequence order; none is held any more. */
  takeAll(): T[] {
    const entries: T[] = [...this.overflow.values()];
    for (const entry of this.slots) if (entry !== undefined) entries.push(entry);
    this.slots = new Array<T | undefined>(FIRST_SLOTS).fill(undefined);
    this.overflow.clear();
    this.count = 0;
    return entries.sort((a, b) => a.sequence - b.sequence);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(old.length * 2).fill(undefined);
    const mask = this.slots.length - 1;
    for (const entry of old) if (entry !== undefined) this.slots[entry.sequence & mask] = entry;
    for (const [sequence, entry] of this.overflow) {
      const slot = sequence & mask;
      if (this.slots[slot] !== undefined) continue;
      this.slots[slot] = entry;
      this.overflow.delete(sequence);
    }
  }
}
