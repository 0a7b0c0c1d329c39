/** Ports and addresses every role and Service agrees on. */
import type { GatewayClusterObject } from './cluster-object.js';
import { ROLE_SETTINGS } from '../../runtime/config/role-settings.js';
import { COMPONENTS, type Component } from './labels.js';
import { childNames } from './names.js';

/** Where each role serves /metrics, /healthz and /readyz: the runtime's defaults. */
export const METRICS_PORTS: Readonly<Record<Component, number>> = Object.freeze(
  Object.fromEntries(COMPONENTS.map((component) => [component, ROLE_SETTINGS[component].metricsPort.schema.parse(undefined) as number])) as Record<Component, number>,
);

/** `<name>-register.<namespace>.svc:<port>`: the register Service, given to every gateway and worker. */
export function registerAddress(cluster: GatewayClusterObject): string {
  const { name, namespace } = cluster.metadata;
  return `${childNames(name).registerService}.${namespace}.svc:${cluster.spec.register.port}`;
}

/** The client Service's port: spec.gateway.service.port, or the gateway client port. */
export function clientServicePort(cluster: GatewayClusterObject): number {
  return cluster.spec.gateway.service.port ?? cluster.spec.gateway.clientPort;
}

/** The HTTP API Service's port: spec.api.service.port, or the API port. */
export function apiServicePort(cluster: GatewayClusterObject): number {
  return cluster.spec.api.service.port ?? cluster.spec.api.port;
}

/** `http://<name>-api.<namespace>.svc:<port>/v1/`: where backends call the HTTP API. */
export function apiUrl(cluster: GatewayClusterObject): string {
  const { name, namespace } = cluster.metadata;
  return `http://${childNames(name).api}.${namespace}.svc:${apiServicePort(cluster)}/v1/`;
}

/** `<name>-gateway.<namespace>.svc:<port>`: where clients connect (status.address). */
export function clientAddress(cluster: GatewayClusterObject): string {
  const { name, namespace } = cluster.metadata;
  return `${childNames(name).gatewayClient}.${namespace}.svc:${clientServicePort(cluster)}`;
}
