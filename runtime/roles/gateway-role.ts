import { gatewaySettings } from '../config/role-settings.js';
import { clientTlsFiles } from '../config/tls-settings.js';
import { Gateway } from '../gateway/gateway.js';
import type { RoleDefinition } from './run-role.js';
import { gatewayWorkerSecret } from '../compat/compat-secret.js';
import { requireIpv4LanIp } from '../compat/client-ids.js';

export const gatewayRole: RoleDefinition<typeof gatewaySettings> = {
  role: 'gateway',
  summary: 'Holds client connections, forwards their events to workers, and carries out Gateway API commands.',
  settings: gatewaySettings,
  async create(settings, { log, secret, registry, peerTransport }) {
    const compat = gatewayWorkerSecret('gateway', gatewaySettings, settings, secret);
    if (compat) requireIpv4LanIp(settings.lanIp);
    return new Gateway({ ...settings, secret, log, registry, peerTransport, tls: clientTlsFiles('gateway', settings), gatewayWorkerSecret: compat });
  },
};
