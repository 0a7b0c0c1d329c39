import { workerSettings } from '../config/role-settings.js';
import { BusinessWorker } from '../worker/business-worker.js';
import { loadHandler } from '../worker/handler-loader.js';
import type { RoleDefinition } from './run-role.js';

export const workerRole: RoleDefinition<typeof workerSettings> = {
  role: 'worker',
  summary: 'Runs the handler module for the events of every gateway it learns of from the Register.',
  settings: workerSettings,
  async create(settings, { log, secret, registry, peerSockets }) {
    const handler = await loadHandler(settings.handler);
    return new BusinessWorker({ ...settings, handler, secret, log, registry, peerSockets });
  },
};
