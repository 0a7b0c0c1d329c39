/**
 * The two systems under test, started fresh for each scenario: GatewayCluster (Register + Gateway + Worker
 * running the bundled echo handler, one process each) and the single-process plain `ws` echo server.
 */
import { fileLimitFor } from '../../runtime/gateway/connection-limits.js';
import { fileURLToPath } from 'node:url';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { metricValue } from '../harness/metrics.js';
import { claimSubnet } from '../harness/subnets.js';
import { BenchProcess } from './processes.js';

const cli = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));
const plainServer = fileURLToPath(new URL('./plain-ws-server.js', import.meta.url));

// Claimed as the process tests claim theirs, so a bench never binds what a test (or another bench) holds.
const { ip } = await claimSubnet();
const SECRET = 'bench-secret-0123456789abcdef';
const REGISTER_ADDRESS = `${ip(1)}:1236`;
const API_KEY = 'bench-api-key-0123456789abcdef';

export interface TargetOptions {
  /** Connections the serving process must be able to hold (sets its open-file limit). */
  maxConnections: number;
  /** Directory for `node --cpu-prof` profiles of the gateway, the worker and the plain server. */
  cpuProfDir?: string;
  /** GatewayWorker compatibility on (gwc only). */
  gatewayWorkerCompat?: boolean;
}

export interface Target {
  readonly name: 'gwc' | 'plain';
  readonly url: string;
  /** Every process doing the serving, for CPU accounting. */
  readonly servers: BenchProcess[];
  /** The process holding the client connections, for memory. */
  readonly holder: BenchProcess;
  heapUsedBytes(): Promise<number>;
  connections(): Promise<number>;
  /** Connects whatever `broadcast` needs, so that is not timed. */
  prepareBroadcast(): Promise<void>;
  /** Where GatewayWorker's GatewayClient points, when compatibility is on. */
  readonly gatewayWorker?: { registerAddress: string; secretKey: string };
  /** Sends `payload` to every client `count` times; resolves once the sends are handed over. */
  broadcast(count: number, payload: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startTarget(name: 'gwc' | 'plain', options: TargetOptions): Promise<Target> {
  return name === 'gwc' ? startGwc(options) : startPlain(options);
}

/** Below a few hundred descriptors Node cannot even load the gateway's modules (EMFILE at 10 clients). */
const MIN_CLIENT_ROOM = 1000;

const GATEWAYWORKER_SECRET = 'bench-gatewayworker-0123456789';

async function startGwc(options: TargetOptions): Promise<Target> {
  const compat = options.gatewayWorkerCompat ? { GWC_GATEWAYWORKER_COMPAT: 'true', GWC_GATEWAYWORKER_SECRET: GATEWAYWORKER_SECRET } : {};
  const env = { GWC_SECRET: SECRET, ...compat };
  const registerAddress = REGISTER_ADDRESS;
  const profile = cpuProfile(options);
  const register = new BenchProcess('register', cli, ['register', '--host', ip(1), '--metrics-host', ip(1), '--name', 'register'], { env });
  const processes = [register];
  try {
    await register.waitForEvent('ready');
    const gateway = new BenchProcess('gateway', cli, ['gateway', '--register-address', registerAddress, '--host', ip(10), '--lan-ip', ip(10),
      '--metrics-host', ip(10), '--name', 'gateway'], { env, nofile: fileLimitFor(Math.max(options.maxConnections, MIN_CLIENT_ROOM)), nodeFlags: profile });
    processes.push(gateway);
    const worker = new BenchProcess('worker', cli, ['worker', '--register-address', registerAddress, '--handler', 'echo',
      '--metrics-host', ip(20), '--name', 'worker'], { env, nodeFlags: profile });
    processes.push(worker);
    await gateway.waitForEvent('worker-connected');
    gateway.checkFileLimit();
    const metricsUrl = `http://${ip(10)}:9272/metrics`;
    let api: GatewayClient | undefined;
    return {
      name: 'gwc',
      url: `ws://${ip(10)}:7272/`,
      servers: processes,
      holder: gateway,
      ...(options.gatewayWorkerCompat ? { gatewayWorker: { registerAddress: `${ip(1)}:1237`, secretKey: GATEWAYWORKER_SECRET } } : {}),
      heapUsedBytes: async () => metric(await fetchText(metricsUrl), 'nodejs_heap_size_used_bytes'),
      connections: async () => metric(await fetchText(metricsUrl), 'gwc_gateway_connections'),
      async prepareBroadcast() {
        api ??= await GatewayClient.connect({ registerAddress, secret: SECRET, name: 'bench-api' });
        await api.getAllClientCount(); // a round trip: the link to the gateway is up
      },
      async broadcast(count, payload) {
        for (let i = 0; i < count; i++) await api!.sendToAll(payload);
      },
      async stop() {
        api?.close();
        await Promise.all(processes.map((p) => p.stop()));
      },
    };
  } catch (error) {
    await Promise.all(processes.map((p) => p.stop()));
    throw error;
  }
}

/** The HTTP API of a running gwc target (`gwc api`, its own process), and a GatewayClient of the same cluster. */
export interface ApiEndpoints {
  /** `http://host:port/v1/` */
  url: string;
  /** The `Authorization` header value a request needs. */
  authorization: string;
  client: GatewayClient;
  stop(): Promise<void>;
}

export async function startApi(): Promise<ApiEndpoints> {
  const host = ip(40);
  const api = new BenchProcess('api', cli, ['api', '--register-address', REGISTER_ADDRESS, '--host', host, '--metrics-host', host, '--name', 'api'], {
    env: { GWC_SECRET: SECRET, GWC_API_KEY: API_KEY },
  });
  try {
    await api.waitForEvent('ready');
    const client = await GatewayClient.connect({ registerAddress: REGISTER_ADDRESS, secret: SECRET, name: 'bench-reference' });
    return {
      url: `http://${host}:7280/v1/`,
      authorization: `Bearer ${API_KEY}`,
      client,
      async stop() {
        client.close();
        await api.stop();
      },
    };
  } catch (error) {
    await api.stop();
    throw error;
  }
}

async function startPlain(options: TargetOptions): Promise<Target> {
  const host = ip(30);
  const port = 7300;
  const server = new BenchProcess('plain-ws', plainServer, [host, String(port)], { nofile: options.maxConnections + 1000, nodeFlags: cpuProfile(options) });
  try {
    await server.waitForEvent('ready');
    server.checkFileLimit();
  } catch (error) {
    await server.stop();
    throw error;
  }
  const stats = async () => JSON.parse(await fetchText(`http://${host}:${port}/stats`)) as { heapUsed: number; clients: number };
  return {
    name: 'plain',
    url: `ws://${host}:${port}/`,
    servers: [server],
    holder: server,
    heapUsedBytes: async () => (await stats()).heapUsed,
    connections: async () => (await stats()).clients,
    prepareBroadcast: async () => {},
    async broadcast(count, payload) {
      await fetchText(`http://${host}:${port}/broadcast?count=${count}&size=${Buffer.byteLength(payload)}`);
    },
    async stop() {
      await server.stop();
    },
  };
}

function cpuProfile(options: TargetOptions): string[] {
  return options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** The value of an unlabelled-or-labelled Prometheus sample, e.g. `name{role="gateway"} 123`. */
function metric(text: string, name: string): number {
  const value = metricValue(text, name);
  if (Number.isNaN(value)) throw new Error(`metric ${name} not found`);
  return value;
}
