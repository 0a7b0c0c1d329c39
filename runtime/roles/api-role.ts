import type { Server } from 'node:http';
import { ApiKeys, parseKeys } from '../http-api/api-keys.js';
import { createApiServer } from '../http-api/api-server.js';
import { ClusterConnection } from '../gateway-api/cluster-connection.js';
import { GatewayClient } from '../gateway-api/gateway-client.js';
import { countSkippedGateways } from '../gateway-api/skipped-gateways-metric.js';
import { apiSettings } from '../config/role-settings.js';
import { listen } from '../net/listen.js';
import type { Logger } from '../observability/log.js';
import { formatAddress } from '../net/address.js';
import { Role } from '../wire/types.js';
import type { RoleDefinition, RoleProcess } from './run-role.js';

export const apiRole: RoleDefinition<typeof apiSettings> = {
  role: 'api',
  summary: 'Serves the Gateway API over HTTP/JSON (POST /v1/<method>), reaching gateways through the Register.',
  settings: apiSettings,
  async create(settings, { log, secret, registry, peerSockets }) {
    const keys = new ApiKeys(parseKeys(settings.apiKey ?? ''), settings.apiKeyFile, log);
    const cluster = new ClusterConnection({
      registerAddress: settings.registerAddress,
      secret,
      name: settings.name,
      role: Role.Api,
      log,
      maxFrameBytes: settings.maxFrameBytes,
      heartbeatInterval: settings.heartbeatInterval,
      sockets: peerSockets,
    });
    const api = new GatewayClient(cluster, { onSkipped: countSkippedGateways(registry) });
    const server = createApiServer({ api, keys, maxBodyBytes: settings.maxBodyBytes, requestTimeout: settings.requestTimeout, log, registry });
    return new ApiProcess(cluster, server, settings.host, settings.port, keys, log);
  },
};

class ApiProcess implements RoleProcess {
  private listening = false;

  constructor(
    private readonly cluster: ClusterConnection,
    private readonly server: Server,
    private readonly host: string,
    private readonly port: number,
    private readonly keys: ApiKeys,
    private readonly log: Logger,
  ) {}

  /** Ready once it serves HTTP and the Register has told it the gateways. */
  get ready(): boolean {
    return this.listening && this.cluster.hasList;
  }

  async start(): Promise<void> {
    this.cluster.start();
    await listen(this.server, this.port, this.host);
    this.listening = true;
    this.log.info('ready', { logEvent: 'ready', url: `http://${formatAddress(this.host, this.port)}/v1/`, keys: this.keys.count });
  }

  async stop(): Promise<void> {
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
    this.cluster.stop();
  }
}
