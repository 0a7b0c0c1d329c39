/**
 * The soak's accounts of client messages, as every test that loads a cluster counts them: sent (written to a gateway
 * connection; a write that failed is not counted), handled (found in the handler records), and lost (sent but never
 * handled), the lost ones by how the connection they went out on ended.
 */
import type { Ledger } from './ledger.js';
import type { ConnectionEnd, LoadPool } from './load-clients.js';

export interface MessageTally {
  sent: number;
  echoed: number;
  handled: number;
  lost: number;
  /** The lost messages by how their connection ended. */
  lostByEnd: Partial<Record<ConnectionEnd, number>>;
  /** Sanity checks: both should be zero. */
  echoedNotRecorded: number;
  handledNotSent: number;
}

export interface LostMessage {
  /** `c:n` */
  key: string;
  end: ConnectionEnd;
  /** When it was written (ms since the epoch). */
  sentAt: number;
}

export function tallyMessages(pool: LoadPool, ledger: Ledger, onLost: (lost: LostMessage) => void = () => {}): MessageTally {
  const tally: MessageTally = { sent: 0, echoed: 0, handled: 0, lost: 0, lostByEnd: {}, echoedNotRecorded: 0, handledNotSent: 0 };
  for (const client of pool.clients) {
    for (let n = 1; n <= client.lastN; n++) {
      const key = `${client.key}:${n}`;
      const wasHandled = ledger.handled.has(key);
      const connection = client.sentOn[n]!;
      if (connection < 0) {
        if (wasHandled) tally.handledNotSent++;
        continue;
      }
      tally.sent++;
      const wasEchoed = (client.echoes[n] ?? 0) > 0;
      if (wasEchoed) tally.echoed++;
      if (wasHandled) {
        tally.handled++;
        continue;
      }
      if (wasEchoed) tally.echoedNotRecorded++;
      tally.lost++;
      const end = pool.connections[connection]!.end;
      tally.lostByEnd[end] = (tally.lostByEnd[end] ?? 0) + 1;
      onLost({ key, end, sentAt: client.sentAt[n]! });
    }
  }
  return tally;
}

export interface Percentiles {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}
