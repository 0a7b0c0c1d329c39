/**
 * GatewayWorker compatibility: `Gateway::sendToUid` from PHP through the compat ports (GatewayWorker's own
 * GatewayClient, as a PHP backend uses it, and with $persistentConnection) against the same calls through the
 * HTTP API from PHP with curl (one handle: keep-alive), in rounds of one slice per way, back to back, on one cluster.
 * A slice is `processes` PHP processes making `calls` calls between them; its rate counts until the clients have
 * received every message.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gatewayClientDir } from '../harness/php-gatewayclient.js';
import { waitFor } from '../harness/wait.js';
import { connectBoundClients, inRounds } from './api-scenario.js';
import { startApi, type ApiEndpoints, type Target } from './targets.js';

export interface CompatConfig {
  clients: number;
  calls: number;
  processes: number;
  rounds: number;
  size: number;
}

export const COMPAT_WAYS = ['gatewayclient', 'persistent', 'curl'] as const;
export type CompatWay = (typeof COMPAT_WAYS)[number];

export interface CompatResult {
  sliceRates: Record<CompatWay, number[]>;
}

const script = fileURLToPath(new URL('../../../test/bench/php/send-to-uid.php', import.meta.url));

export async function runCompat(target: Target, config: CompatConfig, progress: (line: string) => void): Promise<CompatResult> {
  const compat = target.gatewayWorker;
  if (!compat) throw new Error('the compat benchmark needs a target with GatewayWorker compatibility on');
  const api = await startApi();
  const clients = await connectBoundClients(target.url, api, config.clients);
  try {
    const slice = async (way: CompatWay, calls: number) => {
      const before = clients.received();
      const started = process.hrtime.bigint();
      const perProcess = Math.ceil(calls / config.processes);
      await Promise.all(Array.from({ length: config.processes }, (_, p) => php(way, { compat, api, config, calls: perProcess, start: p * perProcess })));
      const total = perProcess * config.processes;
      await waitFor(`every ${way} message to arrive`, () => clients.received() - before >= total, 60_000, 1);
      return total / (Number(process.hrtime.bigint() - started) / 1e9);
    };
    return { sliceRates: await inRounds('compat', COMPAT_WAYS, config, slice, progress) };
  } finally {
    for (const socket of clients.sockets) socket.terminate();
    await api.stop();
  }
}

interface PhpRun {
  compat: { registerAddress: string; secretKey: string };
  api: ApiEndpoints;
  config: CompatConfig;
  calls: number;
  start: number;
}

function php(way: CompatWay, run: PhpRun): Promise<void> {
  const env = {
    ...process.env,
    MODE: way === 'curl' ? 'curl' : 'gatewayclient',
    PERSISTENT: way === 'persistent' ? '1' : '0',
    GATEWAYCLIENT_DIR: gatewayClientDir(),
    REGISTER: run.compat.registerAddress,
    SECRET: run.compat.secretKey,
    API_URL: run.api.url,
    API_KEY: run.api.authorization.replace(/^Bearer /, ''),
    CALLS: String(run.calls),
    START: String(run.start),
    CLIENTS: String(run.config.clients),
    SIZE: String(run.config.size),
  };
  return new Promise((resolve, reject) => {
    const child = spawn('php', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && output.includes(`done ${run.calls}`) ? resolve() : reject(new Error(`php ${way} exited ${code}: ${output.slice(-500)}`))));
  });
}
