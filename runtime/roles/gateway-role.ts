import { openFileLimit } from '../config/open-file-limit.js';
import { gatewaySettings } from '../config/role-settings.js';
import { clientTlsFiles } from '../config/tls-settings.js';
import { Gateway } from '../gateway/gateway.js';
import type { RoleDefinition } from './run-role.js';

export const gatewayRole: RoleDefinition<typeof gatewaySettings> = {
  role: 'gateway',
  summary: 'Holds client connections, forwards their events to workers, and carries out Gateway API commands.',
  settings: gatewaySettings,
  async create(settings, { log, secret, registry, peerTransport }) {
    return new Gateway({ ...settings, secret, log, registry, peerTransport, tls: clientTlsFiles('gateway', settings), openFileLimit: openFileLimit() });
  },
};
