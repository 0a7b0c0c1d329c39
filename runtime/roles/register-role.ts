import { registerSettings } from '../config/role-settings.js';
import { Register } from '../register/register.js';
import type { RoleDefinition } from './run-role.js';

export const registerRole: RoleDefinition<typeof registerSettings> = {
  role: 'register',
  summary: 'The directory: gateways announce their internal address; workers and API clients receive the list.',
  settings: registerSettings,
  async create(settings, { log, secret, registry, peerTransport }) {
    const register = new Register({ ...settings, secret, log, registry, peerTransport });
    return {
      get ready() {
        return register.listening;
      },
      start: () => register.start(),
      stop: () => register.stop(),
    };
  },
};
