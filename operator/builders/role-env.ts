import { METRICS_PORTS, registerAddress, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';

export type EnvVar = { name: string; value?: string; valueFrom?: unknown } & Record<string, unknown>;

export const SECRET_MOUNT = '/etc/gwc/secret';
export const HANDLER_MOUNT = '/etc/gwc/handler';

const value = (name: string, v: string | number): EnvVar => ({ name, value: String(v) });
const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/**
 * The GWC_* settings of one role's container. POD_IP and POD_NAME come first: Kubernetes expands $(VAR) only from
 * variables defined earlier. Every role binds its own pod IP (in the test kubelet all pods share loopback).
 */
export function roleEnv(cluster: GatewayClusterObject, component: Component, ctx: BuildContext): EnvVar[] {
  const { spec } = cluster;
  const common: EnvVar[] = [
    field('POD_IP', 'status.podIP'),
    field('POD_IPS', 'status.podIPs'),
    field('POD_NAME', 'metadata.name'),
    value('GWC_NAME', '$(POD_NAME)'),
    value('GWC_HOST', '$(POD_IP)'),
    value('GWC_METRICS_HOST', '$(POD_IP)'),
    value('GWC_METRICS_PORT', METRICS_PORTS[component]),
    value('GWC_SECRET_FILE', `${SECRET_MOUNT}/${ctx.secretKey}`),
  ];
  switch (component) {
    case 'register':
      return [...common, value('GWC_PORT', spec.register.port)];
    case 'gateway': {
      const g = spec.gateway;
      return [
        ...common,
        value('GWC_REGISTER_ADDRESS', registerAddress(cluster)),
        value('GWC_LAN_IP', '$(POD_IP)'),
        value('GWC_PROTOCOL', g.protocol),
        value('GWC_PORT', g.clientPort),
        value('GWC_INTERNAL_PORT', g.internalPort),
        value('GWC_PING_INTERVAL', g.pingInterval),
        value('GWC_PING_NOT_RESPONSE_LIMIT', g.pingNotResponseLimit),
        ...(g.pingData !== undefined ? [value('GWC_PING_DATA', g.pingData)] : []),
        value('GWC_MAX_PAYLOAD', g.maxPayload),
        value('GWC_MAX_CONNECTIONS', g.maxConnections),
        value('GWC_ROUTER', g.router),
      ];
    }
    case 'worker': {
      const w = spec.worker;
      const handler = w.handler.module ?? (w.handler.configMap ? `${HANDLER_MOUNT}/${w.handler.configMap.key}` : 'chat');
      return [
        ...common,
        value('GWC_REGISTER_ADDRESS', registerAddress(cluster)),
        value('GWC_HANDLER', handler),
        value('GWC_PROCESS_TIMEOUT', w.processTimeout),
        ...((w.env ?? []) as EnvVar[]),
      ];
    }
  }
}
