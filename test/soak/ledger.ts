import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** What the handler records said about one client message `c:n`. */
export interface Handled {
  /** Times a handler ran for it. */
  count: number;
  /** Of those, how many were flagged ctx.redelivery. */
  redeliveries: number;
}

export interface Ledger {
  /** Key `c:n`. */
  handled: Map<string, Handled>;
  records: number;
  /** messageIds that were given to more than one distinct client message (they should be unique). */
  messageIdCollisions: number;
}

const files = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('handled-')).map((name) => path.join(dir, name));

/** Total size of the handler records, to tell when they stop growing. */
export function ledgerBytes(dir: string): number {
  return files(dir).reduce((sum, file) => sum + statSync(file).size, 0);
}

/** Reads every worker's records (lines `c n messageId redelivery worker`, see soak-handler.ts). */
export function readLedger(dir: string): Ledger {
  const handled = new Map<string, Handled>();
  const byMessageId = new Map<string, string>();
  let records = 0;
  let messageIdCollisions = 0;
  for (const file of files(dir)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [c, n, messageId, redelivery] = line.split(' ');
      if (!c || !n || !messageId) continue;
      records++;
      const key = `${c}:${n}`;
      const entry = handled.get(key) ?? { count: 0, redeliveries: 0 };
      entry.count++;
      if (redelivery === '1') entry.redeliveries++;
      handled.set(key, entry);
      const owner = byMessageId.get(messageId);
      if (owner === undefined) byMessageId.set(messageId, key);
      else if (owner !== key) messageIdCollisions++;
    }
  }
  return { handled, records, messageIdCollisions };
}
