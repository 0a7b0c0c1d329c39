import { registerSettings } from '../config/role-settings.js';
import { Register } from '../register/register.js';
import type { RoleDefinition } from './run-role.js';
import { gatewayWorkerSecret } from '../compat/compat-secret.js';
import { GatewayWorkerRegisterPort } from '../compat/register-port.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../wire/peer-handshake.js';

export const registerRole: RoleDefinition<typeof registerSettings> = {
  role: 'register',
  summary: 'The directory: gateways announce their internal address; workers and API clients receive the list.',
  settings: registerSettings,
  async create(settings, { log, secret, registry, peerSockets }) {
    const compatSecret = gatewayWorkerSecret('register', registerSettings, settings, secret);
    let compat: GatewayWorkerRegisterPort | undefined;
    const register = new Register({ ...settings, secret, log, registry, peerSockets, onGatewaysChanged: () => compat?.gatewaysChanged() });
    if (compatSecret) {
      compat = new GatewayWorkerRegisterPort({
        host: settings.host,
        port: settings.gatewayWorkerPort,
        secret: compatSecret,
        handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
        log,
        registry,
        addresses: () => register.gatewayAddresses(),
      });
    }
    return {
      get ready() {
        return register.listening;
      },
      start: async () => {
        await register.start();
        await compat?.start();
      },
      stop: async () => {
        await compat?.stop();
        await register.stop();
      },
    };
  },
};
