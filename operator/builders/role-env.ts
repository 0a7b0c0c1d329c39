/**
 * The environment of one role's container: the runtime reads its settings from GWC_* variables (`gwc <role> --help`).
 * POD_IP and POD_NAME come first, because Kubernetes expands $(VAR) only from variables defined earlier in the list.
 */
import { METRICS_PORTS, registerAddress } from './addresses.js';
import { copy, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';
import { tlsEnv } from './tls.js';
import { API_KEY_MOUNT, HANDLER_MOUNT, SECRET_MOUNT } from './volumes.js';

export type EnvVar = { name: string; value?: string; valueFrom?: Record<string, unknown> } & Record<string, unknown>;

/** The handler workers run when the spec names none (the runtime's own default is echo). */
export const DEFAULT_HANDLER = 'chat';

/** A literal value: every `$` doubled, so Kubernetes does not read `$(X)` in user text as a reference. */
const literal = (name: string, value: string | number): EnvVar => ({ name, value: String(value).replaceAll('$', '$$$$') });
/** A value made of references to earlier variables, expanded by Kubernetes. */
const expanded = (name: string, value: string): EnvVar => ({ name, value });
const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

export function roleEnv(cluster: GatewayClusterObject, component: Component, ctx: BuildContext): EnvVar[] {
  const downward = [field('POD_IP', 'status.podIP'), field('POD_NAME', 'metadata.name')];
  const common = [
    expanded('GWC_NAME', '$(POD_NAME)'),
    literal('GWC_SECRET_FILE', `${SECRET_MOUNT}/${ctx.secretKey}`),
    literal('GWC_METRICS_PORT', METRICS_PORTS[component]),
    // Where gateways and workers reach the Register, and the one address the Register accepts being dialled at.
    literal('GWC_REGISTER_ADDRESS', registerAddress(cluster)),
    ...tlsEnv(cluster, component),
  ];
  switch (component) {
    case 'register':
      return [...downward, ...common, literal('GWC_PORT', cluster.spec.register.port)];
    case 'gateway':
      return [...downward, field('POD_IPS', 'status.podIPs'), ...common, ...gatewayEnv(cluster)];
    case 'worker':
      return [...downward, ...common, ...workerEnv(cluster)];
    case 'api':
      // A file, not a value: a Secret volume changes in place, so a rotated key is taken without a restart.
      return [...downward, ...common, literal('GWC_PORT', cluster.spec.api.port), literal('GWC_API_KEY_FILE', `${API_KEY_MOUNT}/${ctx.apiKeySecretKey}`)];
  }
}

function gatewayEnv(cluster: GatewayClusterObject): EnvVar[] {
  const g = cluster.spec.gateway;
  return [
    // The address workers reach this gateway on, announced to the Register and encoded in client ids.
    expanded('GWC_LAN_IP', '$(POD_IP)'),
    literal('GWC_PROTOCOL', g.protocol),
    literal('GWC_PORT', g.clientPort),
    literal('GWC_INTERNAL_PORT', g.internalPort),
    literal('GWC_PING_INTERVAL', g.pingInterval),
    literal('GWC_PING_NOT_RESPONSE_LIMIT', g.pingNotResponseLimit),
    ...(g.pingData !== undefined ? [literal('GWC_PING_DATA', g.pingData)] : []),
    literal('GWC_MAX_PAYLOAD', g.maxPayload),
    ...(g.maxConnections !== undefined ? [literal('GWC_MAX_CONNECTIONS', g.maxConnections)] : []),
    literal('GWC_MAX_SEND_BUFFER', g.maxSendBuffer),
    literal('GWC_DRAIN_SECONDS', g.drainSeconds),
    literal('GWC_MAX_MESSAGES_PER_SECOND', g.maxMessagesPerSecond),
    ...(g.allowedOrigins?.length ? [literal('GWC_ALLOWED_ORIGINS', g.allowedOrigins.join(','))] : []),
    literal('GWC_ROUTER', g.router),
    // The bundled chat handler comes with its web page, served by the gateway on the client port.
    ...(g.protocol === 'websocket' && workerHandler(cluster) === DEFAULT_HANDLER ? [literal('GWC_WEB_ROOT', 'chat')] : []),
  ];
}

function workerHandler(cluster: GatewayClusterObject): string {
  const { handler } = cluster.spec.worker;
  return handler.module ?? (handler.configMap ? `${HANDLER_MOUNT}/${handler.configMap.key}` : DEFAULT_HANDLER);
}

function workerEnv(cluster: GatewayClusterObject): EnvVar[] {
  const w = cluster.spec.worker;
  return [
    literal('GWC_HANDLER', workerHandler(cluster)),
    literal('GWC_PROCESS_TIMEOUT', w.processTimeout),
    literal('GWC_ABANDON_TIMEOUT', w.abandonTimeout),
    // The user's variables last, as given (they may refer to ours with $(VAR)).
    ...copy((w.env ?? []) as EnvVar[]),
  ];
}
