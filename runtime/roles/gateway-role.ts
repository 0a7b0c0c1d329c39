import type { Server } from 'node:net';
import { requireIpv4LanIp } from '../compat/client-ids.js';
import { gatewayWorkerSecret } from '../compat/compat-secret.js';
import { withGatewayWorkerCompat } from '../compat/gateway-client-port.js';
import { openFileLimit } from '../net/open-file-limit.js';
import { gatewaySettings } from '../config/role-settings.js';
import { clientTlsFiles } from '../config/tls-settings.js';
import { Gateway } from '../gateway/gateway.js';
import { encodeClientId } from '../wire/client-id.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../wire/peer-handshake.js';
import type { RoleDefinition } from './run-role.js';

export const gatewayRole: RoleDefinition<typeof gatewaySettings> = {
  role: 'gateway',
  summary: 'Holds client connections, forwards their events to workers, and carries out Gateway API commands.',
  settings: gatewaySettings,
  async create(settings, { log, secret, registry, peerSockets }) {
    const compatSecret = gatewayWorkerSecret('gateway', gatewaySettings, settings, secret);
    if (compatSecret) requireIpv4LanIp(settings.lanIp);
    // GatewayClient's commands run as a worker's do, on clients named by GatewayWorker's connection ids.
    const sniff = compatSecret
      ? (peers: Server) =>
          withGatewayWorkerCompat(
            peers,
            {
              execute: (command) => gateway.execute(command),
              clientId: (connection) => encodeClientId({ host: settings.lanIp, port: settings.internalPort, connection }),
            },
            { secret: compatSecret, maxFrameBytes: settings.maxFrameBytes, handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS, log, registry },
          )
      : undefined;
    const gateway: Gateway = new Gateway({ ...settings, secret, log, registry, peerSockets, tls: clientTlsFiles('gateway', settings), openFileLimit: openFileLimit(), sniff });
    return gateway;
  },
};
