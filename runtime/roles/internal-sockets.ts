import type { Registry } from 'prom-client';
import { internalTlsFiles } from '../config/tls-settings.js';
import type { Logger } from '../observability/log.js';
import { MutualTlsSockets } from '../tls/mutual-tls-sockets.js';
import { TlsReloader, tlsReloadCounter } from '../tls/tls-reloader.js';
import { plainSockets, type PeerSockets } from '../wire/peer-sockets.js';

type InternalTlsValues = Parameters<typeof internalTlsFiles>[1];

/** Plain TCP, or mutual TLS from the --internal-tls-* files, re-read when they change. */
export function internalSockets(role: string, settings: InternalTlsValues, log: Logger, registry: Registry): PeerSockets {
  const files = internalTlsFiles(role, settings);
  if (!files) return plainSockets;
  const reloads = tlsReloadCounter(registry, 'gwc_internal_tls_reloads_total', 'Reloads of the internal TLS certificate files, by result');
  const reloader = new TlsReloader(files, { log: log.child({ tls: 'internal' }), reloads });
  const sockets = new MutualTlsSockets(reloader.material, log);
  reloader.start((material) => sockets.update(material));
  return sockets;
}
