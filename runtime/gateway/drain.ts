import type { Logger } from '../observability/log.js';
import type { Client } from './client.js';
import type { ClientRegistry } from './client-registry.js';
import { DISCONNECTS } from './disconnects.js';
import type { EventDelivery } from './event-delivery.js';
import { CLIENTS_GONE_MS, FINISH_EVENTS_MS } from './stop-budget.js';

/** Closing clients during a drain happens at most this often. */
const DRAIN_BATCH_MS = 100;

/**
 * A stopping gateway's clients: closed with 1012 in batches spread over `drainMs` (so that their reconnects do not all
 * land on the other gateways at once); those still there CLIENTS_GONE_MS later are dropped. What they sent before is
 * still handled: this returns once every event held here has gone to a worker and every worker has acknowledged what
 * it got (or FINISH_EVENTS_MS passed), and the worker links stay up until then.
 */
export async function drainClients(clients: ClientRegistry, delivery: EventDelivery, drainMs: number, log: Logger): Promise<void> {
  await closeOver([...clients.clients.values()], drainMs, log);
  await waitUntil(() => clients.size === 0, CLIENTS_GONE_MS);
  for (const client of [...clients.clients.values()]) client.close(DISCONNECTS.stopped);
  const finished = await waitUntil(() => delivery.waiting === 0 && delivery.unacknowledged === 0, FINISH_EVENTS_MS);
  if (!finished) log.warn('stopping with events not handled', { waiting: delivery.waiting, unacknowledged: delivery.unacknowledged });
}

async function closeOver(clients: Client[], drainMs: number, log: Logger): Promise<void> {
  const batches = Math.max(1, Math.min(clients.length, Math.floor(drainMs / DRAIN_BATCH_MS)));
  const perBatch = Math.ceil(clients.length / batches);
  log.info('draining clients', { logEvent: 'draining', clients: clients.length, drainMs, batches });
  for (let start = 0; start < clients.length; start += perBatch) {
    for (const client of clients.slice(start, start + perBatch)) client.close(DISCONNECTS.shutdown);
    if (start + perBatch < clients.length) await new Promise((resolve) => setTimeout(resolve, drainMs / batches));
  }
}

/** True once `condition` holds, false when `timeoutMs` passed first. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
