import type { Registry } from 'prom-client';
import { internalTlsFiles } from '../config/tls-settings.js';
import type { Logger } from '../observability/log.js';
import { MutualTlsTransport } from '../tls/mutual-tls-transport.js';
import { TlsReloader, tlsReloadCounter } from '../tls/tls-reloader.js';
import { plainTransport, type PeerTransport } from '../wire/peer-transport.js';

type InternalTlsValues = Parameters<typeof internalTlsFiles>[1];

/** Plain TCP, or mutual TLS from the --internal-tls-* files, re-read when they change. */
export function internalTransport(role: string, settings: InternalTlsValues, log: Logger, registry: Registry): PeerTransport {
  const files = internalTlsFiles(role, settings);
  if (!files) return plainTransport;
  const reloads = tlsReloadCounter(registry, 'gwc_internal_tls_reloads_total', 'Reloads of the internal TLS certificate files, by result');
  const reloader = new TlsReloader(files, { log: log.child({ tls: 'internal' }), reloads });
  const transport = new MutualTlsTransport(reloader.material, log);
  reloader.start((material) => transport.update(material));
  return transport;
}
