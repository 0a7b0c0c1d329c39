import { Counter, Gauge, type Registry } from 'prom-client';
import { FastCounter } from '../observability/fast-counter.js';

export interface GatewaySizes {
  connections: () => number;
  workers: () => number;
  pending: () => number;
  unacknowledged: () => number;
  redelivered: () => number;
  quarantined: () => number;
}

/** Open client connections per gateway: what an autoscaler scales gateways on. */
export const GATEWAY_CONNECTIONS_METRIC = 'gwc_gateway_connections';

export function createGatewayMetrics(registry: Registry, sizes: GatewaySizes) {
  const registers = [registry];
  new Gauge({ name: GATEWAY_CONNECTIONS_METRIC, help: 'Client connections open', registers, collect() { this.set(sizes.connections()); } });
  new Gauge({ name: 'gwc_gateway_workers', help: 'Workers connected', registers, collect() { this.set(sizes.workers()); } });
  new Gauge({
    name: 'gwc_gateway_pending_events',
    help: 'Client events held in the gateway until a worker can take them (none connected, or busy)',
    registers,
    collect() {
      this.set(sizes.pending());
    },
  });
  new Gauge({
    name: 'gwc_gateway_unacknowledged_events',
    help: 'Client events sent to workers and not yet acknowledged',
    registers,
    collect() {
      this.set(sizes.unacknowledged());
    },
  });
  new FastCounter('gwc_gateway_events_redelivered_total', 'Events redelivered after their worker went away unacknowledged', registry, sizes.redelivered);
  new FastCounter(
    'gwc_gateway_events_quarantined_total',
    'Events not delivered again because the workers they were delivered to died (--max-event-deaths); their clients were closed',
    registry,
    sizes.quarantined,
  );
  return {
    connectionsAccepted: new Counter({ name: 'gwc_gateway_connections_accepted_total', help: 'Client connections accepted', registers }),
    connectionsRefused: new Counter({
      name: 'gwc_gateway_connections_refused_total',
      help: 'Client connections refused or dropped by the gateway',
      labelNames: ['reason'] as const,
      registers,
    }),
    messagesReceived: new FastCounter('gwc_gateway_messages_received_total', 'Messages received from clients', registry),
    messagesSent: new FastCounter('gwc_gateway_messages_sent_total', 'Messages sent to clients', registry),
    commands: new FastCounter('gwc_gateway_commands_total', 'Commands from workers and API clients', registry),
    slowClientsClosed: new Counter({
      name: 'gwc_gateway_slow_clients_closed_total',
      help: 'Clients closed because they left more than the send buffer limit unread',
      registers,
    }),
    registerConnected: new Gauge({ name: 'gwc_gateway_register_connected', help: 'Registers this gateway is announced to', registers }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
