import { Counter, type Registry } from 'prom-client';
import type { SkipReason } from './gateway-client.js';

/** Counts the gateways Gateway API calls went on without, by reason: a GatewayClient's onSkipped. */
export function countSkippedGateways(registry: Registry): (gateway: string, reason: SkipReason) => void {
  const counter = new Counter({
    name: 'gwc_client_gateways_skipped_total',
    help: 'Gateway API calls that went on without a gateway: unreachable (connection lost, or none could be made) or timeout (no answer in time)',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of ['unreachable', 'timeout'] satisfies SkipReason[]) counter.inc({ reason }, 0);
  return (_gateway, reason) => counter.inc({ reason });
}
