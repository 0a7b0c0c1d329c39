/**
 * How long a gateway's stop takes at most, stated once: the process exits past it (run-role.ts), and the operator
 * gives a gateway pod this much grace and some more (operator/builders/pod-template.ts).
 */

/** After the drain, how long a stopping gateway waits for its clients' connections to end. */
export const CLIENTS_GONE_MS = 3000;
/** After its clients are closed, how long a stopping gateway waits for workers to handle what they sent. */
export const FINISH_EVENTS_MS = 5000;
/** Closing the worker links and the servers, with room to spare. */
const LAST_STEPS_MS = 2000;

/** A stop: the drain (its clients closed over `drainSeconds`), then the last closes and handlers. */
export function gatewayStopBudgetMs(drainSeconds: number): number {
  return drainSeconds * 1000 + CLIENTS_GONE_MS + FINISH_EVENTS_MS + LAST_STEPS_MS;
}
