import type { Envelope } from '../wire/types.js';

/**
 * Collects the sequences of handled events per gateway and acknowledges them in one EventAck per gateway per
 * event-loop turn, rather than a frame per event.
 */
export class AckBatcher {
  private readonly handled = new Map<string, number[]>();
  private scheduled = false;

  constructor(private readonly send: (gatewayAddress: string, envelope: Envelope) => void) {}

  add(gatewayAddress: string, sequence: number): void {
    const sequences = this.handled.get(gatewayAddress);
    if (sequences) sequences.push(sequence);
    else this.handled.set(gatewayAddress, [sequence]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is collected now (a stopping worker must not leave handled events to be redelivered). */
  flush(): void {
    this.scheduled = false;
    for (const [gatewayAddress, sequences] of this.handled) this.send(gatewayAddress, { ack: { sequences } });
    this.handled.clear();
  }
}
