import { z } from 'zod';
import type { TlsFiles } from '../tls/tls-material.js';
import { ConfigError, setting, type Setting } from './settings.js';

const path = z.string().optional();

/** The gateway's certificate for its clients: wss:// for websocket, TLS for text and frame. */
export const clientTlsSettings = {
  tlsCert: setting('tls-cert', 'GWC_TLS_CERT', path, 'PEM certificate (chain) for clients: wss://, or TLS for text and frame (tls.crt of a mounted kubernetes.io/tls Secret)'),
  tlsKey: setting('tls-key', 'GWC_TLS_KEY', path, 'PEM private key of --tls-cert (tls.key); both files are re-read when they change'),
};

/** Mutual TLS on every internal connection: all three, or none. */
export const internalTlsSettings = {
  internalTlsCert: setting('internal-tls-cert', 'GWC_INTERNAL_TLS_CERT', path, 'PEM certificate for internal connections, as server and as client (mutual TLS)'),
  internalTlsKey: setting('internal-tls-key', 'GWC_INTERNAL_TLS_KEY', path, 'PEM private key of --internal-tls-cert'),
  internalTlsCa: setting('internal-tls-ca', 'GWC_INTERNAL_TLS_CA', path, 'PEM CA that signs every internal certificate (ca.crt)'),
};

export function clientTlsFiles(role: string, values: { tlsCert?: string | undefined; tlsKey?: string | undefined }): TlsFiles | undefined {
  return allOrNone(role, [
    [clientTlsSettings.tlsCert, values.tlsCert],
    [clientTlsSettings.tlsKey, values.tlsKey],
  ]);
}

export function internalTlsFiles(
  role: string,
  values: { internalTlsCert?: string | undefined; internalTlsKey?: string | undefined; internalTlsCa?: string | undefined },
): TlsFiles | undefined {
  return allOrNone(role, [
    [internalTlsSettings.internalTlsCert, values.internalTlsCert],
    [internalTlsSettings.internalTlsKey, values.internalTlsKey],
    [internalTlsSettings.internalTlsCa, values.internalTlsCa],
  ]);
}

function allOrNone(role: string, entries: Array<[Setting, string | undefined]>): TlsFiles | undefined {
  const missing = entries.filter(([, value]) => value === undefined).map(([spec]) => `--${spec.flag} (${spec.env})`);
  if (missing.length === entries.length) return undefined;
  if (missing.length > 0) {
    const all = entries.map(([spec]) => `--${spec.flag}`).join(', ');
    throw new ConfigError(`${role}: ${all} go together: missing ${missing.join(', ')}`);
  }
  const [cert, key, ca] = entries.map(([, value]) => value!);
  return { cert: cert!, key: key!, ...(ca !== undefined ? { ca } : {}) };
}
