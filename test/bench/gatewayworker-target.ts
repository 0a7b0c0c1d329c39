/**
 * GatewayWorker itself (PHP, Workerman) as an echo target: the reference deployment in
 * /work/shared/anchors/gatewayworker (README.md there), run as `php start.php start` in the foreground under a
 * BenchProcess, so its process group (Workerman's master and the Register, Gateway and BusinessWorker it forks)
 * goes with the bench however the bench ends. One Gateway process, one BusinessWorker.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { waitFor } from '../harness/wait.js';
import { BenchProcess } from './processes.js';
import type { EchoTarget, ServingProcess } from './targets.js';

export const GATEWAYWORKER_DIR = process.env.GW_ANCHOR_SOURCE ?? '/work/shared/anchors/gatewayworker';

/** Why GatewayWorker cannot run here (no php, no anchor), or undefined when it can; and its event loop. */
export function gatewayWorkerAvailability(): { missing?: string; eventLoop: 'event' | 'select' } {
  const php = spawnSync('php', ['-r', 'echo extension_loaded("event") ? "event" : "select";'], { encoding: 'utf8' });
  if (php.error || php.status !== 0) return { missing: 'php is not installed (apt-get install php-cli)', eventLoop: 'select' };
  if (!existsSync(join(GATEWAYWORKER_DIR, 'start.php'))) return { missing: `no GatewayWorker anchor at ${GATEWAYWORKER_DIR}`, eventLoop: 'select' };
  return { eventLoop: php.stdout.trim() === 'event' ? 'event' : 'select' };
}

/** A TCP port free on 127.0.0.1 now: the Gateway's inner port, which start.php binds on lanIp 127.0.0.1 whatever the host. */
function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Workerman's processes in the group led by `leader`, named from the titles it gives them. */
function workermanProcesses(leader: number): ServingProcess[] {
  const found: ServingProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (group !== leader) continue;
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const role = /worker process\s+(\w+)/.exec(title)?.[1]?.toLowerCase() ?? (title.includes('master process') ? 'master' : 'php');
      found.push({ label: `gw-${role}`, pid: Number(entry) });
    } catch {
      // gone since readdir
    }
  }
  return found;
}

/** One echo round trip on a fresh connection: the Gateway listens and a BusinessWorker is connected to it. */
async function echoes(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const done = (ok: boolean) => {
      ws.terminate();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    ws.on('open', () => ws.send('ready?'));
    ws.on('message', (data: Buffer) => {
      clearTimeout(timer);
      done(data.toString() === 'ready?');
    });
    ws.on('error', () => {
      clearTimeout(timer);
      done(false);
    });
  });
}

export interface GatewayWorkerOptions {
  /** Address the Register and the Gateway listen on (a claimed bench address). */
  host: string;
  maxConnections: number;
}

export async function startGatewayWorker(options: GatewayWorkerOptions): Promise<EchoTarget> {
  const listen = `websocket://${options.host}:7372`;
  const env = {
    GW_REGISTER: `${options.host}:1236`,
    GW_LISTEN: listen,
    GW_START_PORT: String(await freeLoopbackPort()),
    GW_SECRET: 'bench-gatewayworker-secret',
    GW_ANCHOR_DIR: mkdtempSync(join(tmpdir(), 'gwc-bench-gatewayworker-')),
    GW_GATEWAYS: '1',
    GW_WORKERS: '1',
  };
  const master = new BenchProcess('gatewayworker', 'start.php', ['start'], {
    interpreter: ['php'],
    cwd: GATEWAYWORKER_DIR,
    env,
    nofile: options.maxConnections + 1000,
  });
  const url = `ws://${options.host}:7372/`;
  try {
    await waitFor('GatewayWorker to echo', async () => {
      master.assertRunning('GatewayWorker to echo');
      return echoes(url);
    }, 20_000, 100);
    master.checkFileLimit();
  } catch (error) {
    await master.stop();
    throw error;
  }
  return {
    name: 'gatewayworker',
    url,
    servers: workermanProcesses(master.pid),
    async stop() {
      await master.stop();
    },
  };
}
