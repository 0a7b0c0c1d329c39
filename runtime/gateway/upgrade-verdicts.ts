import { toNumber, type UpgradeVerdict } from '../wire/types.js';
import type { Client } from './client.js';
import type { UpgradeCheck } from './client-transport.js';
import { DISCONNECTS, type UpgradeRefusal } from './disconnects.js';

type Verdict = Awaited<UpgradeCheck['verdict']>;

/**
 * Why an upgrade that waited for a verdict was decided: a worker's verdict (its handler's onWebSocketConnect), none
 * in time, an event of the client's quarantined, or the client gone before.
 */
export type VerdictCause = 'handler' | 'timeout' | 'quarantined' | 'abandoned';

/** How the client ends when its upgrade is refused, by cause. */
const REFUSED: Readonly<Record<VerdictCause, UpgradeRefusal>> = {
  handler: DISCONNECTS.upgradeRefusedByHandler,
  timeout: DISCONNECTS.upgradeTimedOut,
  quarantined: DISCONNECTS.upgradeQuarantined,
  abandoned: DISCONNECTS.upgradeAbandoned,
};

type Settle = (cause: VerdictCause, verdict?: UpgradeVerdict) => void;

/**
 * WebSocket upgrades waiting for a worker's verdict (when workers decide upgrades, their handler has
 * onWebSocketConnect): the client exists from the upgrade request on, but its upgrade completes only on the verdict,
 * so onConnect and onWebSocketConnect run first, as in GatewayWorker.
 */
export class UpgradeVerdicts {
  /** By the sequence of the upgrade's WebSocketConnect event, which the worker's verdict names. */
  private readonly bySequence = new Map<number, Settle>();
  private readonly byClient = new Map<Client, Settle>();

  constructor(private readonly timeoutMs: number) {}

  /** Waits for the verdict on the client's upgrade, whose WebSocketConnect event has `sequence`. */
  wait(client: Client, sequence: number): UpgradeCheck {
    let settle!: Settle;
    const verdict = new Promise<Verdict>((resolve) => {
      const timer = setTimeout(() => settle('timeout'), this.timeoutMs);
      let settled = false;
      settle = (cause, received) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.bySequence.delete(sequence);
        this.byClient.delete(client);
        resolve(decide(client, cause, received));
      };
    });
    this.bySequence.set(sequence, settle);
    this.byClient.set(client, settle);
    // Settled at once, so that the request and its socket are not kept until the upgrade timeout.
    return { client, verdict, abandon: () => settle('abandoned') };
  }

  /** A worker's verdict; one for an upgrade decided already is dropped. */
  received(verdict: UpgradeVerdict): void {
    this.bySequence.get(toNumber(verdict.sequence))?.('handler', verdict);
  }

  /** An event of the client's was quarantined: true when its upgrade was waiting (it is refused now). */
  quarantined(client: Client): boolean {
    const settle = this.byClient.get(client);
    settle?.('quarantined');
    return settle !== undefined;
  }
}

/** The verdict the upgrade is answered with; a refused client ends now, counted by the cause (disconnects.ts). */
function decide(client: Client, cause: VerdictCause, received?: UpgradeVerdict): Verdict {
  const disconnect = REFUSED[cause];
  if (cause === 'abandoned') {
    client.close(disconnect);
    return { ...disconnect.refusal! };
  }
  let verdict: Verdict;
  if (received) {
    const status = received.status ?? 0;
    if (status === 0) return { status, reason: received.reason };
    verdict = { status: status < 400 || status > 599 ? 403 : status, reason: received.reason };
  } else {
    verdict = { ...disconnect.refusal! };
  }
  client.close(disconnect, { status: verdict.status, reason: verdict.reason ?? '' });
  return verdict;
}
