import type { Envelope } from '../wire/types.js';

/**
 * Collects the sequences of handled events per gateway and acknowledges them in one EventAck per gateway once the
 * current task (and the promise callbacks it set off) is done, rather than a frame per event. That is before the
 * connection's outbox writes its batch (outbox.ts, at setImmediate), so an ack leaves in the same write as the
 * commands its handlers sent, after them, rather than in a write and a wake-up of the gateway of its own.
 */
export class AckBatcher {
  private readonly handled = new Map<string, number[]>();
  private scheduled = false;
  private readonly flushBound = () => this.flush();

  constructor(private readonly send: (gatewayAddress: string, envelope: Envelope) => void) {}

  add(gatewayAddress: string, sequence: number): void {
    const sequences = this.handled.get(gatewayAddress);
    if (sequences) sequences.push(sequence);
    else this.handled.set(gatewayAddress, [sequence]);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flushBound);
  }

  /** Sends what is collected now (a stopping worker must not leave handled events to be redelivered). */
  flush(): void {
    this.scheduled = false;
    for (const [gatewayAddress, sequences] of this.handled) this.send(gatewayAddress, { ack: { sequences } });
    this.handled.clear();
  }
}
