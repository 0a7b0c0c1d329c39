import type { Registry } from 'prom-client';
import { internalTlsFiles, openTlsFiles } from '../config/tls-settings.js';
import type { Logger } from '../observability/log.js';
import { MutualTlsTransport } from '../wire/mutual-tls-transport.js';
import { plainTransport, type PeerTransport } from '../wire/peer-transport.js';
import { tlsReloadCounter } from './tls-reloader.js';

type InternalTlsValues = Parameters<typeof internalTlsFiles>[1];

/** Plain TCP, or mutual TLS from the --internal-tls-* files, re-read when they change. */
export function internalTransport(role: string, settings: InternalTlsValues, log: Logger, registry: Registry): PeerTransport {
  const files = internalTlsFiles(role, settings);
  if (!files) return plainTransport;
  const reloads = tlsReloadCounter(registry, 'gwc_internal_tls_reloads_total', 'Reloads of the internal TLS certificate files, by result');
  const reloader = openTlsFiles(role, files, { log: log.child({ tls: 'internal' }), reloads });
  const transport = new MutualTlsTransport(reloader.material, log);
  reloader.start((material) => transport.update(material));
  return transport;
}
