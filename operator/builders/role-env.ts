/**
 * The environment of one role's container: the runtime reads its settings from GWC_* variables (`gwc <role> --help`),
 * and every name here comes from its settings table (runtime/config), so a renamed variable cannot be missed. The
 * settings a spec section holds are written from it one for one; then the ones the operator decides (addresses,
 * files, ports of its own); the section's `env` last, as given (it may refer to ours with $(VAR)).
 * POD_IP and POD_NAME come first, because Kubernetes expands $(VAR) only from variables defined earlier in the list.
 */
import { DEFAULT_HANDLER, ROLE_SETTINGS } from '../../runtime/config/role-settings.js';
import type { SettingSpecs } from '../../runtime/config/settings.js';
import { METRICS_PORTS, registerAddress } from './addresses.js';
import { copy, type BuildContext, type GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';
import { tlsEnv } from './tls.js';
import { API_KEY_MOUNT, GATEWAYWORKER_SECRET_MOUNT, HANDLER_MOUNT, SECRET_MOUNT, speaksGatewayWorker } from './volumes.js';

export type EnvVar = { name: string; value?: string; valueFrom?: Record<string, unknown> } & Record<string, unknown>;

/** A literal value: every `$` doubled, so Kubernetes does not read `$(X)` in user text as a reference. */
const literal = (name: string, value: string | number): EnvVar => ({ name, value: String(value).replaceAll('$', '$$$$') });
/** A value made of references to earlier variables, expanded by Kubernetes. */
const expanded = (name: string, value: string): EnvVar => ({ name, value });
const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** The variable of each setting the spec section holds, from its value there (unset ones are left out). */
export function settingsEnv(settings: SettingSpecs, section: Record<string, unknown>): EnvVar[] {
  return Object.values(settings).flatMap((setting) => {
    const value = setting.spec ? section[setting.spec.field] : undefined;
    return setting.spec && value !== undefined ? [literal(setting.env, setting.spec.toText(value))] : [];
  });
}

export function roleEnv(cluster: GatewayClusterObject, component: Component, ctx: BuildContext): EnvVar[] {
  const settings = ROLE_SETTINGS[component];
  const section = cluster.spec[component];
  const downward = [field('POD_IP', 'status.podIP'), field('POD_NAME', 'metadata.name')];
  const common = [
    expanded(settings.name.env, '$(POD_NAME)'),
    literal(settings.secretFile.env, `${SECRET_MOUNT}/${ctx.secretKey}`),
    literal(settings.metricsPort.env, METRICS_PORTS[component]),
    // Where gateways and workers reach the Register, and the one address the Register accepts being dialled at.
    literal(ROLE_SETTINGS.gateway.registerAddress.env, registerAddress(cluster)),
    ...tlsEnv(cluster, component),
  ];
  const fromSpec = [...settingsEnv(settings, section), ...gatewayWorkerEnv(cluster, component, ctx)];
  const userEnv = copy((section.env ?? []) as EnvVar[]);
  switch (component) {
    case 'register':
      return [...downward, ...common, ...fromSpec, ...userEnv];
    case 'gateway':
      return [...downward, field('POD_IPS', 'status.podIPs'), ...common, ...fromSpec, ...gatewayEnv(cluster), ...userEnv];
    case 'worker':
      return [...downward, ...common, ...fromSpec, literal(ROLE_SETTINGS.worker.handler.env, workerHandler(cluster)), ...userEnv];
    case 'api':
      // A file, not a value: a Secret volume changes in place, so a rotated key is taken without a restart.
      return [...downward, ...common, ...fromSpec, literal(ROLE_SETTINGS.api.apiKeyFile.env, `${API_KEY_MOUNT}/${ctx.apiKeySecretKey}`), ...userEnv];
  }
}

/** spec.gatewayWorkerCompat for the Register (its compat port too) and the gateways. */
function gatewayWorkerEnv(cluster: GatewayClusterObject, component: Component, ctx: BuildContext): EnvVar[] {
  if (!speaksGatewayWorker(cluster, component)) return [];
  const settings = ROLE_SETTINGS.register;
  return [
    literal(settings.gatewayWorkerCompat.env, 'true'),
    literal(settings.gatewayWorkerSecretFile.env, `${GATEWAYWORKER_SECRET_MOUNT}/${ctx.gatewayWorkerSecretKey}`),
    ...(component === 'register' ? [literal(settings.gatewayWorkerPort.env, cluster.spec.gatewayWorkerCompat.port)] : []),
  ];
}

function gatewayEnv(cluster: GatewayClusterObject): EnvVar[] {
  const settings = ROLE_SETTINGS.gateway;
  return [
    // The address workers reach this gateway on, announced to the Register and encoded in client ids.
    expanded(settings.lanIp.env, '$(POD_IP)'),
    // The bundled chat handler comes with its web page, served by the gateway on the client port.
    ...(cluster.spec.gateway.protocol === 'websocket' && workerHandler(cluster) === DEFAULT_HANDLER ? [literal(settings.webRoot.env, 'chat')] : []),
  ];
}

function workerHandler(cluster: GatewayClusterObject): string {
  const { handler } = cluster.spec.worker;
  return handler.module ?? (handler.configMap ? `${HANDLER_MOUNT}/${handler.configMap.key}` : DEFAULT_HANDLER);
}
