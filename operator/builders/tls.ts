/**
 * TLS Secrets in the pods: spec.gateway.tlsSecretName (a kubernetes.io/tls Secret) for the gateways' clients, and
 * spec.internalTls.secretName (tls.crt, tls.key, ca.crt, as cert-manager writes it) for every internal connection.
 * Whole-Secret volumes, never subPath mounts: only those are updated in place when the Secret is renewed, and the
 * runtime re-reads the files when they change.
 */
import { clientTlsSettings, internalTlsSettings } from '../../runtime/config/tls-settings.js';
import type { GatewayClusterSpec } from '../spec/gateway-cluster-spec.js';
import type { GatewayClusterObject } from './cluster-object.js';
import type { Component } from './labels.js';

export const CLIENT_TLS_MOUNT = '/etc/gwc/client-tls';
export const INTERNAL_TLS_MOUNT = '/etc/gwc/internal-tls';

interface TlsSecret {
  volume: string;
  secretName: string;
  /** The spec field naming it. */
  field: string;
  /** The only role that mounts it; every role when unset. */
  onlyFor?: Component;
  mountPath: string;
  /** Environment variable → key of the Secret. */
  files: Record<string, string>;
}

/** Every TLS Secret the spec names. */
function namedTlsSecrets(spec: GatewayClusterSpec): TlsSecret[] {
  const secrets: TlsSecret[] = [];
  if (spec.gateway.tlsSecretName) {
    secrets.push({
      volume: 'client-tls',
      secretName: spec.gateway.tlsSecretName,
      field: 'spec.gateway.tlsSecretName',
      onlyFor: 'gateway',
      mountPath: CLIENT_TLS_MOUNT,
      files: { [clientTlsSettings.tlsCert.env]: 'tls.crt', [clientTlsSettings.tlsKey.env]: 'tls.key' },
    });
  }
  if (spec.internalTls) {
    secrets.push({
      volume: 'internal-tls',
      secretName: spec.internalTls.secretName,
      field: 'spec.internalTls.secretName',
      mountPath: INTERNAL_TLS_MOUNT,
      files: { [internalTlsSettings.internalTlsCert.env]: 'tls.crt', [internalTlsSettings.internalTlsKey.env]: 'tls.key', [internalTlsSettings.internalTlsCa.env]: 'ca.crt' },
    });
  }
  return secrets;
}

function tlsSecrets(cluster: GatewayClusterObject, component: Component): TlsSecret[] {
  return namedTlsSecrets(cluster.spec).filter((secret) => (secret.onlyFor ?? component) === component);
}

/** The TLS Secrets the spec names, each with the field naming it and the keys the pods read from it. */
export function tlsSecretKeys(spec: GatewayClusterSpec): Array<{ name: string; field: string; keys: string[] }> {
  return namedTlsSecrets(spec).map((secret) => ({ name: secret.secretName, field: secret.field, keys: Object.values(secret.files) }));
}

/** The TLS part of a role's volumes (volumes.ts adds it to the rest). */
export function tlsVolumes(cluster: GatewayClusterObject, component: Component) {
  const secrets = tlsSecrets(cluster, component);
  return {
    // 0400 as for the shared secret: the private key is for the container's user (and, through fsGroup, its group).
    volumes: secrets.map((s) => ({ name: s.volume, secret: { secretName: s.secretName, defaultMode: 0o400 } })),
    mounts: secrets.map((s) => ({ name: s.volume, mountPath: s.mountPath, readOnly: true })),
  };
}

export function tlsEnv(cluster: GatewayClusterObject, component: Component): Array<{ name: string; value: string }> {
  return tlsSecrets(cluster, component).flatMap((s) => Object.entries(s.files).map(([name, key]) => ({ name, value: `${s.mountPath}/${key}` })));
}
