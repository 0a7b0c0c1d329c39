/** The volumes of a role's pod: the shared secret for every role, the handler ConfigMap for workers, and TLS Secrets. */
import type { BuildContext, GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';
import { tlsVolumes } from './tls.js';

export const SECRET_MOUNT = '/etc/gwc/secret';
export const HANDLER_MOUNT = '/etc/gwc/handler';
export const API_KEY_MOUNT = '/etc/gwc/api-key';
export const GATEWAYWORKER_SECRET_MOUNT = '/etc/gwc/gatewayworker';

/** The roles that speak GatewayWorker's protocols when spec.gatewayWorkerCompat is on. */
export function speaksGatewayWorker(cluster: GatewayClusterObject, component: Component): boolean {
  return cluster.spec.gatewayWorkerCompat.enabled && (component === 'register' || component === 'gateway');
}

export interface RoleVolumes {
  volumes: Array<Record<string, unknown>>;
  mounts: Array<{ name: string; mountPath: string; readOnly: boolean }>;
}

/** The ConfigMap the workers load their handler from, when the spec names one. */
export function handlerConfigMap(cluster: GatewayClusterObject, component: Component) {
  return component === 'worker' ? cluster.spec.worker.handler.configMap : undefined;
}

export function roleVolumes(cluster: GatewayClusterObject, component: Component, ctx: BuildContext): RoleVolumes {
  // 0400: only the container's user (and, through fsGroup, its group) may read the secret.
  const volumes: RoleVolumes['volumes'] = [{ name: 'secret', secret: { secretName: ctx.secretName, defaultMode: 0o400 } }];
  const mounts: RoleVolumes['mounts'] = [{ name: 'secret', mountPath: SECRET_MOUNT, readOnly: true }];
  const configMap = handlerConfigMap(cluster, component);
  if (configMap) {
    volumes.push({ name: 'handler', configMap: { name: configMap.name } });
    mounts.push({ name: 'handler', mountPath: HANDLER_MOUNT, readOnly: true });
  }
  if (component === 'api') {
    volumes.push({ name: 'api-key', secret: { secretName: ctx.apiKeySecretName, defaultMode: 0o400 } });
    mounts.push({ name: 'api-key', mountPath: API_KEY_MOUNT, readOnly: true });
  }
  if (speaksGatewayWorker(cluster, component)) {
    volumes.push({ name: 'gatewayworker-secret', secret: { secretName: ctx.gatewayWorkerSecretName, defaultMode: 0o400 } });
    mounts.push({ name: 'gatewayworker-secret', mountPath: GATEWAYWORKER_SECRET_MOUNT, readOnly: true });
  }
  const tls = tlsVolumes(cluster, component);
  return { volumes: [...volumes, ...tls.volumes], mounts: [...mounts, ...tls.mounts] };
}
