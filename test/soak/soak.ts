import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RoleProcess } from '../harness/role-process.js';
import { TestCluster, type ClusterLayout } from '../harness/test-cluster.js';
import { waitFor } from '../harness/wait.js';
import { Chaos, type ChaosKind } from './chaos.js';
import { runFlood, type FloodResult } from './flood.js';
import { ledgerBytes, readLedger } from './ledger.js';
import { LoadPool } from './load-clients.js';
import { MemorySampler } from './memory.js';
import { Prng, randomSeed } from './prng.js';
import { buildReport, type SoakReport } from './report.js';

/** How long past its duration a run may go on for the chaos to do each kind of action once. */
const EVERY_KIND_GRACE_MS = 60_000;

export const soakHandler = fileURLToPath(new URL('./soak-handler.js', import.meta.url));

export interface SoakOptions {
  /** Seconds of load and chaos (start-up and the final settling come on top). */
  durationS: number;
  seed?: number;
  clients: number;
  /** Messages per second per client. */
  rate: number;
  /** Third octet of the 127.0.x.y addresses (default: a free one, claimed). */
  subnet?: number;
  /** Gateways' --max-send-buffer. */
  maxSendBuffer?: number;
  /** Pause between chaos actions, [min, max] seconds. */
  chaosIntervalS?: [number, number];
  /** Kinds of chaos action (default: all). */
  chaosKinds?: ChaosKind[];
  /** When the flood starts, as a fraction of the duration (none when undefined or the duration is too short). */
  floodAt?: number;
  slowClients?: number;
  floodMiB?: number;
  /** Each client connection is closed by its client after [min, max] seconds (default [10, 40]; [0, 0]: never). */
  lifetimeS?: [number, number];
  /** Keeps the handler records folder (its path is logged). */
  keepRecords?: boolean;
  log?: (line: string) => void;
}

/** The cluster of the soak: every process it ever started is kept (for their logs), workers get the records folder. */
class SoakCluster extends TestCluster {
  readonly everyProcess: RoleProcess[] = [];

  constructor(
    layout: ClusterLayout,
    private readonly recordsDir: string,
  ) {
    super(layout);
  }

  override startRegister(): RoleProcess {
    return this.kept(super.startRegister());
  }

  override startGateway(index: number, extraArgs: string[] = []): RoleProcess {
    return this.kept(super.startGateway(index, extraArgs));
  }

  override startWorker(index: number, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): RoleProcess {
    return this.kept(super.startWorker(index, extraArgs, { GWC_SOAK_DIR: this.recordsDir, ...env }));
  }

  killAllNow(): void {
    for (const process of this.everyProcess) if (process.alive) process.child.kill('SIGKILL');
  }

  private kept(process: RoleProcess): RoleProcess {
    this.everyProcess.push(process);
    return process;
  }
}

const GATEWAYS = 2;
const WORKERS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The chaos soak: 1 Register, 2 Gateways, 3 Workers as processes; steady load from many clients while the
 * chaos kills and restarts processes, with a slow-consumer flood part way; then everything settles and the
 * clients' accounts are checked against the handler records.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const seed = options.seed ?? randomSeed();
  const maxSendBuffer = options.maxSendBuffer ?? 256 * 1024;
  const rng = new Prng(seed);
  const chaosRng = rng.fork();
  const clientRng = rng.fork();
  const startedAt = Date.now();
  const stamp = (line: string) => log(`[+${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`);
  stamp(`seed ${seed}`);

  const recordsDir = mkdtempSync(path.join(tmpdir(), 'gwc-soak-'));
  const cluster = new SoakCluster({
    subnet: options.subnet,
    gateways: GATEWAYS,
    workers: WORKERS,
    handler: soakHandler,
    gatewayArgs: ['--drain-seconds', '2', '--max-send-buffer', String(maxSendBuffer)],
  }, recordsDir);
  const { subnet } = await cluster.claim();
  const killOnExit = () => cluster.killAllNow();
  process.once('exit', killOnExit);

  const sampler = new MemorySampler(() => [...cluster.all(), { label: 'soak-clients', pid: process.pid, alive: true }]);
  const [intervalMin, intervalMax] = options.chaosIntervalS ?? [1.5, 4.5];
  const chaos = new Chaos(cluster, {
    rng: chaosRng,
    intervalMs: [intervalMin * 1000, intervalMax * 1000],
    restartDelayMs: [500, 2000],
    ...(options.chaosKinds ? { kinds: options.chaosKinds } : {}),
    startedAt,
    log: stamp,
    beforeKill: (victim) => sampler.recordHighWater(victim),
  });
  const urls = Array.from({ length: GATEWAYS }, (_, index) => cluster.gatewayUrl(index));
  const pool = new LoadPool({
    urls,
    clients: options.clients,
    rate: options.rate,
    rng: clientRng,
    lifetimeS: options.lifetimeS ?? [10, 40],
    gatewayFault: (connection) => chaos.gatewayFault(connection.gateway),
  });
  const watchdog = setInterval(() => chaos.checkExits(), 250);
  let flood: FloodResult | undefined;
  let settled = false;

  try {
    await cluster.start();
    sampler.start();
    stamp(`cluster up (records in ${recordsDir}); connecting ${options.clients} clients`);
    await pool.connectAll();
    pool.startSending();
    chaos.start();
    const loadStart = Date.now();
    const floodAtMs = options.floodAt === undefined ? undefined : options.durationS * 1000 * options.floodAt;

    if (floodAtMs !== undefined) {
      await sleep(floodAtMs);
      stamp('flood: pausing the chaos');
      await chaos.pause();
      await cluster.waitForWorkersOnAllGateways(30_000).catch((error: Error) => stamp(`flood starts anyway: ${error.message}`));
      sampler.phase = 'flood';
      flood = await runFlood({
        urls,
        slowClients: options.slowClients ?? 6,
        bytesPerRecipient: (options.floodMiB ?? 96) * 1024 * 1024,
        // Bursts a reading client takes at once: a burst much over --max-send-buffer closes even a reader.
        burstBytes: 128 * 1024,
        intervalMs: 10,
        gateways: () => cluster.gateways,
      });
      await sleep(1000);
      sampler.phase = 'after-flood';
      stamp(`flood done: ${flood.closes1008}/${flood.slowClients} slow clients closed with 1008; chaos resumes`);
      chaos.resume();
    }
    await sleep(Math.max(0, loadStart + options.durationS * 1000 - Date.now()));
    // On a loaded machine actions take longer and a short run can end before every kind had its turn.
    await waitFor('the chaos to have done every kind of action', () => chaos.everyKindDone(), EVERY_KIND_GRACE_MS, 200)
      .catch((error: Error) => stamp(error.message));

    stamp('stopping the chaos; waiting for every process and client to be back');
    await chaos.stop();
    try {
      await cluster.waitForWorkersOnAllGateways(30_000);
      await waitFor('every client to be connected', () => pool.allOpen, 20_000);
    } catch (error) {
      stamp(`not whole again: ${(error as Error).message}`);
    }
    pool.stopSending();
    settled = await settle(pool, recordsDir);
    stamp(settled ? 'settled' : `not settled: ${pool.outstanding} messages still unechoed, given up`);
    chaos.checkExits(false);
    for (const process of cluster.all()) sampler.recordHighWater(process);
  } finally {
    clearInterval(watchdog);
    sampler.stop();
    pool.close();
    await chaos.stop();
    await cluster.stop();
    process.off('exit', killOnExit);
  }

  const ledger = readLedger(recordsDir);
  if (options.keepRecords) stamp(`handler records kept in ${recordsDir}`);
  else rmSync(recordsDir, { recursive: true, force: true });
  return buildReport({
    config: { seed, durationS: options.durationS, clients: options.clients, rate: options.rate, subnet, maxSendBuffer },
    startedAt,
    pool,
    ledger,
    chaos,
    sampler,
    flood,
    processes: cluster.everyProcess,
    settled,
  });
}

/**
 * Until every message in flight is echoed and the handler records stopped growing for a second; messages still
 * unechoed when the records have not moved for 5 s are given up (at most 20 s in all). True when none was.
 */
export async function settle(pool: LoadPool, recordsDir: string): Promise<boolean> {
  let size = -1;
  let stableSince = Date.now();
  await waitFor('the outstanding messages to be echoed and the handler records to stop growing', () => {
    const now = ledgerBytes(recordsDir);
    if (now !== size) {
      size = now;
      stableSince = Date.now();
    }
    const stableMs = Date.now() - stableSince;
    return (pool.outstanding === 0 && stableMs >= 1000) || stableMs >= 5000;
  }, 20_000, 100).catch(() => undefined);
  return pool.outstanding === 0;
}
