/**
 * Benchmark: GatewayCluster (Register + Gateway + Worker, one process each) against a single-process plain
 * `ws` echo server, measured in the same run and reported as ratios. Not part of `npm test`.
 *
 *   npm run bench -- [--json results.json] [--only echo,memory,fanout,api,http] [--measure-s 3] [--warmup-s 1]
 *                    [--idle-connections 10000[,18000,...]: the memory scenario at each count in turn]
 *                    [--echo-rounds 10] [--echo-generators 1] [--cpu-prof <dir>: profiles of the echo's servers, of
 *                    the http scenario's API and bare HTTP server, and of the api scenario's API]
 *                    [--api-calls 20000] [--api-rounds 5] [--api-concurrency 16] [--api-batch 100] [--api-clients 100]
 *                    [--http-rounds 5] [--http-connections 32] (slices of --measure-s; --api-clients clients)
 *                    [--compat-calls 4000] [--compat-rounds 3] [--compat-processes 4] (--only compat: not in the default set)
 *                    [--gw-generators 2,2,1] [--gw-loads 10x1,100x1,500x4] (--only gatewayworker: not in the default set)
 *                    [--scale-connections 100000] [--scale-holders 6] [--scale-workers 2] [--scale-probe-clients 20]
 *                    [--scale-stages 0.25,0.5,1] [--scale-settle-s 180] (--only scale: not either)
 *   npm run bench -- --only gatewayworker        (GWC against GatewayWorker itself and plain ws; needs php-cli)
 *   npm run bench -- --only scale [--scale-connections 12000]   (100,000 by default)
 *
 * The echo starts both systems and loads them in turn, `--echo-rounds` slices each of `--warmup-s` + `--measure-s`
 * (see runEchoInterleaved); memory and fan-out run on each system in turn, each freshly started. The HTTP API runs
 * on a fresh GatewayCluster, against a GatewayClient making the same calls (see runApi); `http` loads it with wrk
 * against a bare Node HTTP server (see runHttp). `compat` (PHP's GatewayClient
 * through the GatewayWorker compat ports against PHP with curl through the HTTP API) needs php-cli and php-curl.
 * `gatewayworker` runs the echo at issue 22's three loads (10×1, 100×1, 500×4) on GWC, GatewayWorker itself (PHP, from
 * the anchor in /work/shared/anchors/gatewayworker) and plain ws, all up at once, interleaved (runGatewayWorker).
 * `scale` holds --scale-connections over --scale-holders gateways, then as many plain ws processes: accepts/s, RSS per
 * connection, one sendToAll, a reconnect storm (runScale).
 *
 * Every child runs in its own process group, killed when this process exits, fails or is interrupted.
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installCleanup, stopAll } from './processes.js';
import { runApi } from './api-scenario.js';
import { runCompat } from './compat-scenario.js';
import { runGatewayWorker } from './gatewayworker-scenario.js';
import { runScale } from './scale-scenario.js';
import { runHttp } from './http-scenario.js';
import { formatReport, summarize, writeJson, type Pair } from './report.js';
import { runEchoInterleaved, runFanout, runMemory } from './scenarios.js';
import { startTarget, type Target } from './targets.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    only: { type: 'string', default: 'echo,memory,fanout,api,http' },
    'measure-s': { type: 'string', default: '3' },
    'warmup-s': { type: 'string', default: '1' },
    clients: { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: '4' },
    size: { type: 'string', default: '64' },
    'echo-generators': { type: 'string', default: '1' },
    'echo-rounds': { type: 'string', default: '10' },
    'idle-connections': { type: 'string', default: '10000' },
    'fanout-clients': { type: 'string', default: '5000' },
    broadcasts: { type: 'string', default: '100' },
    'cpu-prof': { type: 'string' },
    'api-calls': { type: 'string', default: '20000' },
    'api-rounds': { type: 'string', default: '5' },
    'api-concurrency': { type: 'string', default: '16' },
    'api-batch': { type: 'string', default: '100' },
    'api-clients': { type: 'string', default: '100' },
    'http-rounds': { type: 'string', default: '5' },
    'http-connections': { type: 'string', default: '32' },
    'compat-calls': { type: 'string', default: '4000' },
    'compat-rounds': { type: 'string', default: '3' },
    'compat-processes': { type: 'string', default: '4' },
    'gw-generators': { type: 'string', default: '2,2,1' },
    'gw-loads': { type: 'string' },
    'scale-connections': { type: 'string', default: '100000' },
    'scale-holders': { type: 'string', default: '6' },
    'scale-workers': { type: 'string', default: '2' },
    'scale-probe-clients': { type: 'string', default: '20' },
    'scale-stages': { type: 'string', default: '0.25,0.5,1' },
    'scale-settle-s': { type: 'string', default: '180' },
  },
});

/** How each echo slices its time, at any load. */
const echoSlices = {
  size: Number(values.size),
  warmupMs: Number(values['warmup-s']) * 1000,
  measureMs: Number(values['measure-s']) * 1000,
  rounds: Math.max(1, Number(values['echo-rounds'])),
};

const config = {
  echo: {
    ...echoSlices,
    clients: Number(values.clients),
    inFlight: Number(values['in-flight']),
    generators: Number(values['echo-generators']),
  },
  memory: { connections: values['idle-connections']!.split(',').map(Number), generators: 2 },
  fanout: { clients: Number(values['fanout-clients']), broadcasts: Number(values.broadcasts), size: Number(values.size), generators: 2 },
  api: {
    clients: Number(values['api-clients']),
    calls: Number(values['api-calls']),
    concurrency: Number(values['api-concurrency']),
    batchSize: Number(values['api-batch']),
    rounds: Math.max(1, Number(values['api-rounds'])),
    size: Number(values.size),
  },
  http: {
    clients: Number(values['api-clients']),
    rounds: Math.max(1, Number(values['http-rounds'])),
    measureMs: Number(values['measure-s']) * 1000,
    connections: Number(values['http-connections']),
    size: Number(values.size),
  },
  compat: {
    clients: Number(values['api-clients']),
    calls: Number(values['compat-calls']),
    processes: Number(values['compat-processes']),
    rounds: Math.max(1, Number(values['compat-rounds'])),
    size: Number(values.size),
  },
  gatewayworker: {
    echo: echoSlices,
    generators: values['gw-generators']!.split(',').map(Number),
    ...(values['gw-loads'] ? { loads: values['gw-loads'].split(',') } : {}),
  },
  scale: {
    connections: Number(values['scale-connections']),
    holders: Number(values['scale-holders']),
    workers: Number(values['scale-workers']),
    stages: values['scale-stages']!.split(',').map(Number),
    size: Number(values.size),
    probeClients: Number(values['scale-probe-clients']),
    probeMs: Number(values['measure-s']) * 1000,
    settleTimeoutMs: Number(values['scale-settle-s']) * 1000,
  },
};
const only = new Set(values.only!.split(','));
const cpuProfDir = values['cpu-prof'];
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

/** Runs `scenario` on a fresh GWC cluster, then on a fresh plain server. */
async function both<T>(what: string, maxConnections: number, scenario: (target: Target) => Promise<T>): Promise<Pair<T>> {
  const run = async (name: 'gwc' | 'plain') => {
    process.stderr.write(`${what}: ${name}...\n`);
    const target = await startTarget(name, { maxConnections });
    try {
      return await scenario(target);
    } finally {
      await target.stop();
    }
  };
  return { gwc: await run('gwc'), plain: await run('plain') };
}

/** A fresh GWC cluster only (for what has no plain counterpart). */
async function onGwc<T>(maxConnections: number, scenario: (target: Target) => Promise<T>, gatewayWorkerCompat = false): Promise<T> {
  const target = await startTarget('gwc', { maxConnections, gatewayWorkerCompat });
  try {
    return await scenario(target);
  } finally {
    await target.stop();
  }
}

/** Both systems up at once (for the interleaved echo). */
async function bothUp<T>(maxConnections: number, scenario: (targets: Pair<Target>) => Promise<T>): Promise<T> {
  const profile = cpuProfDir ? { cpuProfDir } : {};
  const gwc = await startTarget('gwc', { maxConnections, ...profile });
  try {
    const plain = await startTarget('plain', { maxConnections, ...profile });
    try {
      return await scenario({ gwc, plain });
    } finally {
      await plain.stop();
    }
  } finally {
    await gwc.stop();
  }
}

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const echo = only.has('echo') ? await bothUp(config.echo.clients, (targets) => runEchoInterleaved(targets, config.echo, progress)) : undefined;
  const memory = [];
  if (only.has('memory')) {
    for (const connections of config.memory.connections) memory.push(await both(`memory ${connections}`, connections, (t) => runMemory(t, { ...config.memory, connections }, progress)));
  }
  const fanout = only.has('fanout') ? await both('fanout', config.fanout.clients, (t) => runFanout(t, config.fanout)) : undefined;
  const api = only.has('api') ? await onGwc(config.api.clients, (target) => runApi(target, { ...config.api, cpuProfDir }, progress)) : undefined;
  const http = only.has('http') ? await onGwc(config.http.clients, (target) => runHttp(target, { ...config.http, cpuProfDir }, progress)) : undefined;
  const compat = only.has('compat') ? await onGwc(config.compat.clients, (target) => runCompat(target, config.compat, progress), true) : undefined;
  const gatewayworker = only.has('gatewayworker') ? await runGatewayWorker(config.gatewayworker, progress) : undefined;
  const scale = only.has('scale') ? await runScale(config.scale, progress) : undefined;
  const results = summarize(config, { echo, memory, fanout, api, http, compat, gatewayworker, scale });
  process.stdout.write(`\n${formatReport(results)}\n\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  if (values.json) writeJson(values.json, results);
}

main().then(
  async () => {
    await stopAll();
    process.exit(0);
  },
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exit(1);
  },
);
