import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { RoleProcess } from './role-process.js';
import { claimSubnet, claimThisSubnet, type Subnet } from './subnets.js';
import { waitFor } from './wait.js';

export const TEST_SECRET = 'test-secret-0123456789abcdef';
export const fixtureHandler = fileURLToPath(new URL('../fixtures/test-handler.js', import.meta.url));

export interface ClusterLayout {
  /**
   * Where the cluster's 127.0.S.x addresses are. Leave it out: start() (or claim()) claims a free subnet (see
   * subnets.ts). Or a claim of the test file's own (`await claimSubnet()`), to know addresses before start().
   * A number picked by hand still works for now: it is claimed too, waiting while another test holds it.
   */
  subnet?: Subnet | number;
  gateways?: number;
  workers?: number;
  protocol?: 'websocket' | 'text' | 'frame';
  handler?: string;
  gatewayArgs?: string[];
  workerArgs?: string[];
  /** Environment variables for every process (e.g. GWC_INTERNAL_TLS_*). */
  env?: NodeJS.ProcessEnv;
  /** The gateways' open-file limit (`ulimit -n`). */
  gatewayFileLimit?: number;
}

export const REGISTER_PORT = 1236;
export const CLIENT_PORT = 7272;
export const INTERNAL_PORT = 2900;

/**
 * A Register, N Gateways and M Workers as separate OS processes, each on its own loopback address in the cluster's
 * subnet S: register 127.0.S.1, gateway i 127.0.S.(10+i), worker i 127.0.S.(20+i).
 */
export class TestCluster {
  register!: RoleProcess;
  readonly gateways: RoleProcess[] = [];
  readonly workers: RoleProcess[] = [];
  private readonly extra: RoleProcess[] = [];
  private apiClients: GatewayClient[] = [];
  private claimed: Subnet | undefined;
  /** Whether the cluster claimed its subnet itself, and so gives it back when stopped. */
  private ownClaim = false;

  constructor(readonly layout: ClusterLayout) {
    if (typeof layout.subnet === 'object') this.claimed = layout.subnet;
  }

  /** Claims the cluster's subnet (start() does); needed first only to use its addresses before starting it. */
  async claim(): Promise<this> {
    if (this.claimed) return this;
    const wanted = this.layout.subnet;
    this.claimed = typeof wanted === 'number' ? await claimThisSubnet(wanted) : await claimSubnet();
    this.ownClaim = true;
    return this;
  }

  get subnet(): number {
    if (!this.claimed) throw new Error('the cluster has no subnet yet: call start() or claim() first');
    return this.claimed.subnet;
  }

  get registerAddress(): string {
    return `${this.ip(1)}:${REGISTER_PORT}`;
  }

  ip(host: number): string {
    return `127.0.${this.subnet}.${host}`;
  }

  gatewayIp(index: number): string {
    return this.ip(10 + index);
  }

  gatewayUrl(index: number): string {
    return `ws://${this.gatewayIp(index)}:${CLIENT_PORT}/`;
  }

  async start(): Promise<this> {
    await this.claim();
    this.register = this.startRegister();
    await this.register.waitForEvent('ready');
    for (let i = 0; i < (this.layout.gateways ?? 1); i++) this.gateways.push(this.startGateway(i));
    for (let i = 0; i < (this.layout.workers ?? 1); i++) this.workers.push(this.startWorker(i));
    await Promise.all(this.gateways.map((gateway) => gateway.waitForEvent('ready')));
    await this.waitForWorkersOnAllGateways();
    return this;
  }

  startRegister(): RoleProcess {
    return new RoleProcess('register', ['register', '--host', this.ip(1), '--port', String(REGISTER_PORT), '--metrics-host', this.ip(1)], {
      GWC_SECRET: TEST_SECRET,
      GWC_NAME: 'register',
      ...this.layout.env,
    });
  }

  startGateway(index: number, extraArgs: string[] = [], fileLimit = this.layout.gatewayFileLimit): RoleProcess {
    const ip = this.gatewayIp(index);
    const args = ['gateway', '--register-address', this.registerAddress, '--host', ip, '--lan-ip', ip, '--metrics-host', ip,
      '--protocol', this.layout.protocol ?? 'websocket', ...(this.layout.gatewayArgs ?? []), ...extraArgs];
    return new RoleProcess(`gateway${index}`, args, { GWC_SECRET: TEST_SECRET, GWC_NAME: `gateway${index}`, ...this.layout.env }, fileLimit);
  }

  startWorker(index: number, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): RoleProcess {
    const args = ['worker', '--register-address', this.registerAddress, '--handler', this.layout.handler ?? fixtureHandler,
      '--metrics-host', this.ip(20 + index), ...(this.layout.workerArgs ?? []), ...extraArgs];
    return new RoleProcess(`worker${index}`, args, { GWC_SECRET: TEST_SECRET, GWC_NAME: `worker${index}`, ...this.layout.env, ...env });
  }

  /** A process that is stopped with the cluster. */
  adopt(process: RoleProcess): RoleProcess {
    this.extra.push(process);
    return process;
  }

  /** Every running worker connected to every running gateway (as the gateway last reported its worker count). */
  async waitForWorkersOnAllGateways(timeoutMs = 15_000): Promise<void> {
    const running = this.workers.filter((worker) => worker.alive);
    await waitFor(`${running.length} workers on every gateway`, () => {
      // A worker that exits now can never be counted.
      for (const worker of running) worker.assertRunning(`${running.length} workers on every gateway`);
      return this.gateways
        .filter((gateway) => gateway.alive)
        .every((gateway) => (gateway.records.findLast((r) => r.logEvent === 'worker-connected' || r.logEvent === 'worker-disconnected')?.workers ?? 0) === running.length);
    }, timeoutMs);
  }

  async api(): Promise<GatewayClient> {
    const client = await GatewayClient.connect({ registerAddress: this.registerAddress, secret: TEST_SECRET, name: 'test-api' });
    this.apiClients.push(client);
    return client;
  }

  all(): RoleProcess[] {
    return [this.register, ...this.gateways, ...this.workers, ...this.extra].filter(Boolean);
  }

  async stop(): Promise<void> {
    for (const client of this.apiClients) client.close();
    await Promise.all(this.all().map((process) => process.stop('SIGKILL')));
    if (this.ownClaim) {
      await this.claimed?.release();
      this.claimed = undefined;
      this.ownClaim = false;
    }
  }
}

/** A cluster started before the tests of the enclosing suite and stopped after them. */
export function clusterForSuite(layout: ClusterLayout): TestCluster {
  const cluster = new TestCluster(layout);
  before(() => cluster.start());
  after(() => cluster.stop());
  return cluster;
}
