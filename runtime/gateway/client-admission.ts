import type { ClientRegistry } from './client-registry.js';
import type { ConnectionLimits } from './connection-limits.js';
import type { EventDelivery } from './event-delivery.js';
import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * Which clients a gateway takes, and the heartbeat that finds those gone silent. A new client is refused while the
 * gateway is not accepting, past the connection limit, and past the pending bound: refused before its upgrade, it
 * queues nothing, not even a Close. What a client may do once in (its message rate, its unread bytes, its silence)
 * Client checks itself, against ClientLimits.
 */
export class ClientAdmission {
  private accepting = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clients: ClientRegistry,
    private readonly delivery: EventDelivery,
    private readonly limits: ConnectionLimits,
    private readonly metrics: Pick<GatewayMetrics, 'connectionsRefused'>,
  ) {}

  get open(): boolean {
    return this.accepting;
  }

  /** Accepts clients from now on, and beats every `pingIntervalSeconds` (0: no heartbeat). */
  start(pingIntervalSeconds: number): void {
    this.accepting = true;
    if (pingIntervalSeconds > 0) this.heartbeatTimer = setInterval(() => this.heartbeat(), pingIntervalSeconds * 1000);
  }

  stop(): void {
    this.accepting = false;
    clearInterval(this.heartbeatTimer);
  }

  canAccept(): boolean {
    if (!this.accepting) return false;
    if (this.clients.size >= this.limits.clients) {
      this.metrics.connectionsRefused.inc({ reason: 'max-connections' });
      return false;
    }
    if (!this.delivery.hasRoomForClient()) {
      this.metrics.connectionsRefused.inc({ reason: 'pending-events' });
      return false;
    }
    return true;
  }

  private heartbeat(): void {
    for (const client of this.clients.clients.values()) client.heartbeat();
  }
}
