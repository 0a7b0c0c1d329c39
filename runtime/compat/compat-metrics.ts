import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';

/** Why a GatewayWorker-compat connection was closed (the `reason` label). */
export type RefusalReason = 'secret' | 'unauthenticated' | 'header' | 'too-large' | 'command' | 'argument' | 'timeout' | 'internal';

export interface CompatMetrics {
  refused: Counter<'reason'>;
  commands: Counter<'command'>;
}

/** The counters of the compat ports of one process (a gateway's internal port, or the Register's compat port). */
export function compatMetrics(registry: Registry): CompatMetrics {
  return {
    refused: new Counter({
      name: 'gwc_gatewayworker_refused_total',
      help: 'GatewayWorker-protocol connections closed for a wrong secret or bad input, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    commands: new Counter({
      name: 'gwc_gatewayworker_commands_total',
      help: 'GatewayClient commands carried out, by GatewayProtocol command (CMD_*)',
      labelNames: ['command'],
      registers: [registry],
    }),
  };
}

/** Compares a secret a peer sent with ours in constant time (digests, so their lengths do not show either). */
export function secretMatcher(secret: Buffer): (given: string) => boolean {
  const expected = createHash('sha256').update(secret).digest();
  return (given) => timingSafeEqual(createHash('sha256').update(given, 'utf8').digest(), expected);
}
