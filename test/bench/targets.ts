/**
 * The two systems under test, started fresh for each scenario: GatewayCluster (Register + Gateway + Worker
 * running the bundled echo handler, one process each unless told more gateways and workers) and the plain `ws`
 * echo server (one process, unless told more).
 */
import { fileLimitFor } from '../../runtime/gateway/connection-limits.js';
import { fileURLToPath } from 'node:url';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { metricValue } from '../harness/metrics.js';
import { claimSubnet } from '../harness/subnets.js';
import type { HeapReading } from './idle-settle.js';
import { BenchProcess } from './processes.js';

const cli = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));
const plainServer = fileURLToPath(new URL('./plain-ws-server.js', import.meta.url));
const plainHttpServer = fileURLToPath(new URL('./plain-http-server.js', import.meta.url));

// Claimed as the process tests claim theirs, so a bench never binds what a test (or another bench) holds.
const { ip } = await claimSubnet();
/** 127.0.S.host on the bench's claimed subnet: hosts from 100 up are free for scenarios' own servers. */
export const benchIp = ip;
const SECRET = 'bench-secret-0123456789abcdef';
const REGISTER_ADDRESS = `${ip(1)}:1236`;
const API_KEY = 'bench-api-key-0123456789abcdef';

export interface TargetOptions {
  /** Connections each process holding clients must be able to hold (sets its open-file limit). */
  maxConnections: number;
  /** Processes holding clients: gateways of gwc, servers of plain (default 1). */
  holders?: number;
  /** Workers of gwc (default 1). */
  workers?: number;
  /** Directory for `node --cpu-prof` profiles of the gateway, the worker and the plain server. */
  cpuProfDir?: string;
  /** GatewayWorker compatibility on (gwc only). */
  gatewayWorkerCompat?: boolean;
}

/** A process whose CPU is counted. */
export interface ServingProcess {
  readonly label: string;
  readonly pid: number;
}

/** What the echo needs of a system: where to connect, what to count CPU of, how to stop it. */
export interface EchoTarget {
  readonly name: string;
  readonly url: string;
  /** Every process doing the serving, for CPU accounting. */
  readonly servers: readonly ServingProcess[];
  stop(): Promise<void>;
}

export interface Target extends EchoTarget {
  readonly name: 'gwc' | 'plain';
  /** The first holder's: `urls[0]`. */
  readonly url: string;
  /** Where each holder takes clients. */
  readonly urls: readonly string[];
  /** The processes holding the client connections, for memory (the current ones, after restartHolder). */
  readonly holders: readonly BenchProcess[];
  /** `holders[0]` */
  readonly holder: BenchProcess;
  /** The holder's V8 heap in use, its young generation's committed size and its mark-compacts so far (see IDLE_SETTLE). */
  heap(holder?: number): Promise<HeapReading>;
  connections(holder?: number): Promise<number>;
  /** Kills holder `index` (SIGKILL, as a crash) and starts it again at once; resolves once it serves again. */
  restartHolder(index: number): Promise<void>;
  /** Connects whatever `broadcast` needs, so that is not timed. */
  prepareBroadcast(): Promise<void>;
  /** Where GatewayWorker's GatewayClient points, when compatibility is on. */
  readonly gatewayWorker?: { registerAddress: string; secretKey: string };
  /** Sends `payload` to every client `count` times; resolves once the sends are handed over. */
  broadcast(count: number, payload: string): Promise<void>;
}

export async function startTarget(name: 'gwc' | 'plain', options: TargetOptions): Promise<Target> {
  return name === 'gwc' ? startGwc(options) : startPlain(options);
}

/** Below a few hundred descriptors Node cannot even load the gateway's modules (EMFILE at 10 clients). */
const MIN_CLIENT_ROOM = 1000;

const GATEWAYWORKER_SECRET = 'bench-gatewayworker-0123456789';

/** One role per process, or `role0`, `role1`, ... when there are several. */
const numbered = (role: string, count: number) => Array.from({ length: count }, (_, i) => (count === 1 ? role : `${role}${i}`));

async function startGwc(options: TargetOptions): Promise<Target> {
  const compat = options.gatewayWorkerCompat ? { GWC_GATEWAYWORKER_COMPAT: 'true', GWC_GATEWAYWORKER_SECRET: GATEWAYWORKER_SECRET } : {};
  const env = { GWC_SECRET: SECRET, ...compat };
  const registerAddress = REGISTER_ADDRESS;
  const profile = [...cpuProfile(options), ...extraNodeFlags()];
  const workerNames = numbered('worker', options.workers ?? 1);
  const gatewayNames = numbered('gateway', options.holders ?? 1);
  const gatewayIp = (i: number) => ip(10 + i);
  const register = new BenchProcess('register', cli, ['register', '--host', ip(1), '--metrics-host', ip(1), '--name', 'register'], { env });
  const gateways: BenchProcess[] = [];
  const workers: BenchProcess[] = [];
  const all = () => [register, ...gateways, ...workers];
  /** Gateway `i`, resolving once every worker has connected to it. */
  const startGateway = async (i: number) => {
    const gateway = new BenchProcess(gatewayNames[i]!, cli, ['gateway', '--register-address', registerAddress, '--host', gatewayIp(i), '--lan-ip', gatewayIp(i),
      '--metrics-host', gatewayIp(i), '--name', gatewayNames[i]!], { env, nofile: fileLimitFor(Math.max(options.maxConnections, MIN_CLIENT_ROOM)), nodeFlags: profile });
    gateways[i] = gateway;
    await gateway.waitForEvent('worker-connected', { workers: workerNames.length }, 20_000);
    gateway.checkFileLimit();
  };
  try {
    await register.waitForEvent('ready');
    const started = gatewayNames.map((_, i) => startGateway(i));
    for (const name of workerNames) {
      workers.push(new BenchProcess(name, cli, ['worker', '--register-address', registerAddress, '--handler', 'echo',
        '--metrics-host', ip(20 + workers.length), '--name', name], { env, nodeFlags: profile }));
    }
    await Promise.all(started);
    const metricsPage = (i: number) => fetchText(`http://${gatewayIp(i)}:9272/metrics`);
    const metrics = async (i: number, name: string) => metric(await metricsPage(i), name);
    const urls = gatewayNames.map((_, i) => `ws://${gatewayIp(i)}:7272/`);
    let api: GatewayClient | undefined;
    return {
      name: 'gwc',
      url: urls[0]!,
      urls,
      get servers() {
        return all();
      },
      get holders() {
        return gateways;
      },
      get holder() {
        return gateways[0]!;
      },
      ...(options.gatewayWorkerCompat ? { gatewayWorker: { registerAddress: `${ip(1)}:1237`, secretKey: GATEWAYWORKER_SECRET } } : {}),
      async heap(i = 0) {
        const page = await metricsPage(i);
        return { used: metric(page, 'nodejs_heap_size_used_bytes'), total: metric(page, 'nodejs_heap_size_total_bytes'), newSpace: newSpaceMetric(page), majorGcs: majorGcsMetric(page) };
      },
      connections: (i = 0) => metrics(i, 'gwc_gateway_connections'),
      async restartHolder(i) {
        await gateways[i]!.stop('SIGKILL');
        await startGateway(i);
      },
      async prepareBroadcast() {
        api ??= await GatewayClient.connect({ registerAddress, secret: SECRET, name: 'bench-api' });
        await api.getAllClientCount(); // a round trip: the link to the gateway is up
      },
      async broadcast(count, payload) {
        for (let i = 0; i < count; i++) await api!.sendToAll(payload);
      },
      async stop() {
        api?.close();
        await Promise.all(all().map((p) => p.stop()));
      },
    };
  } catch (error) {
    await Promise.all(all().map((p) => p.stop()));
    throw error;
  }
}

/** The HTTP API of a running gwc target (`gwc api`, its own process), and a GatewayClient of the same cluster. */
export interface ApiEndpoints {
  /** `http://host:port/v1/` */
  url: string;
  /** The `Authorization` header value a request needs. */
  authorization: string;
  /** The API's Prometheus page. */
  metricsUrl: string;
  /** The `gwc api` process. */
  process: BenchProcess;
  client: GatewayClient;
  stop(): Promise<void>;
}

/** `gwc api` on the running gwc target; `cpuProfDir`: a `node --cpu-prof` profile of it, written as it stops. */
export async function startApi(options: { cpuProfDir?: string } = {}): Promise<ApiEndpoints> {
  const host = ip(40);
  const api = new BenchProcess('api', cli, ['api', '--register-address', REGISTER_ADDRESS, '--host', host, '--metrics-host', host, '--name', 'api'], {
    env: { GWC_SECRET: SECRET, GWC_API_KEY: API_KEY },
    nodeFlags: cpuProfile(options),
  });
  try {
    await api.waitForEvent('ready');
    const client = await GatewayClient.connect({ registerAddress: REGISTER_ADDRESS, secret: SECRET, name: 'bench-reference' });
    return {
      url: `http://${host}:7280/v1/`,
      authorization: `Bearer ${API_KEY}`,
      metricsUrl: `http://${host}:9280/metrics`,
      process: api,
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
  const names = numbered('plain-ws', options.holders ?? 1);
  const host = (i: number) => ip(30 + i);
  const port = 7300;
  const servers: BenchProcess[] = [];
  const startServer = async (i: number) => {
    const server = new BenchProcess(names[i]!, plainServer, [host(i), String(port)], { nofile: options.maxConnections + 1000, nodeFlags: cpuProfile(options) });
    servers[i] = server;
    await server.waitForEvent('ready');
    server.checkFileLimit();
  };
  try {
    await Promise.all(names.map((_, i) => startServer(i)));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  const stats = async (i: number) => JSON.parse(await fetchText(`http://${host(i)}:${port}/stats`)) as { heapUsed: number; heapTotal: number; newSpace: number; majorGcs: number; clients: number };
  const urls = names.map((_, i) => `ws://${host(i)}:${port}/`);
  return {
    name: 'plain',
    url: urls[0]!,
    urls,
    servers,
    holders: servers,
    holder: servers[0]!,
    async heap(i = 0) {
      const { heapUsed, heapTotal, newSpace, majorGcs } = await stats(i);
      return { used: heapUsed, total: heapTotal, newSpace, majorGcs };
    },
    connections: async (i = 0) => (await stats(i)).clients,
    async restartHolder(i) {
      await servers[i]!.stop('SIGKILL');
      await startServer(i);
    },
    prepareBroadcast: async () => {},
    async broadcast(count, payload) {
      const size = Buffer.byteLength(payload);
      await Promise.all(names.map((_, i) => fetchText(`http://${host(i)}:${port}/broadcast?count=${count}&size=${size}`)));
    },
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

/** The bare HTTP server of plain-http-server.ts: its base URL, and its process. */
export async function startPlainHttp(options: { cpuProfDir?: string } = {}): Promise<{ url: string; process: BenchProcess }> {
  const host = ip(31);
  const port = 7310;
  const server = new BenchProcess('plain-http', plainHttpServer, [host, String(port)], { nodeFlags: cpuProfile(options) });
  try {
    await server.waitForEvent('ready');
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: `http://${host}:${port}/v1/`, process: server };
}

/**
 * GWC_BENCH_NODE_FLAGS (space-separated): node flags for the gwc target's gateways and workers only, to try a V8 or
 * Node setting against the same run's references (e.g. `--trace-gc`, shown with GWC_BENCH_RAW; see processes.ts).
 */
function extraNodeFlags(): string[] {
  return process.env.GWC_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
}

function cpuProfile(options: { cpuProfDir?: string }): string[] {
  return options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** The value of the sample `name` that has the label `label` (e.g. `space="new"`) among whatever others it has. */
function sampleWithLabel(text: string, name: string, label: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.slice(name.length, l.indexOf('}') + 1).split(/[{,}]/).includes(label));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** nodejs_heap_space_size_total_bytes of the space "new". */
function newSpaceMetric(text: string): number {
  const value = sampleWithLabel(text, 'nodejs_heap_space_size_total_bytes', 'space="new"');
  if (value === undefined) throw new Error('metric nodejs_heap_space_size_total_bytes{space="new"} not found');
  return value;
}

/** prom-client's count of mark-compacts (nodejs_gc_duration_seconds{kind="major"}); none yet: no sample. */
function majorGcsMetric(text: string): number {
  return sampleWithLabel(text, 'nodejs_gc_duration_seconds_count', 'kind="major"') ?? 0;
}

/** The value of an unlabelled-or-labelled Prometheus sample, e.g. `name{role="gateway"} 123`. */
function metric(text: string, name: string): number {
  const value = metricValue(text, name);
  if (Number.isNaN(value)) throw new Error(`metric ${name} not found`);
  return value;
}
