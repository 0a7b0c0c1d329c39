/**
 * The echo against GatewayWorker itself (issue 22): GatewayCluster, GatewayWorker (PHP) and the plain `ws` server,
 * all three up at once, loaded in interleaved slices (runEchoInterleaved) at each of LOADS in turn.
 */
import { gatewayWorkerAvailability, startGatewayWorker } from './gatewayworker-target.js';
import { runEchoInterleaved, type EchoConfig, type EchoResult } from './scenarios.js';
import { benchIp, startTarget, type EchoTarget } from './targets.js';

/** The loads; `plainGoal`: where GWC must also match plain ws. */
export const LOADS = [
  { clients: 10, inFlight: 1, plainGoal: false },
  { clients: 100, inFlight: 1, plainGoal: false },
  { clients: 500, inFlight: 4, plainGoal: true },
] as const;

export const SYSTEMS = ['gwc', 'gatewayworker', 'plain'] as const;
export type System = (typeof SYSTEMS)[number];

export interface GatewayWorkerConfig {
  /** Warm-up, measure, rounds and size of each load's echo; clients, in flight and generators come from the load. */
  echo: Omit<EchoConfig, 'clients' | 'inFlight' | 'generators'>;
  /** Load-generator processes at each load of LOADS, in order. */
  generators: number[];
  /** Which of LOADS to run, as `clients×inFlight` or `clientsxinFlight` labels (default: all). */
  loads?: string[];
}

/** `10x1` or `10×1` */
const loadLabel = (load: { clients: number; inFlight: number }) => `${load.clients}x${load.inFlight}`;

export interface LoadMeasured {
  clients: number;
  inFlight: number;
  plainGoal: boolean;
  generators: number;
  systems: Record<System, EchoResult>;
}

export type GatewayWorkerMeasured = { skipped: string } | { eventLoop: 'event' | 'select'; loads: LoadMeasured[] };

async function startAll(maxConnections: number): Promise<Record<System, EchoTarget>> {
  const started: EchoTarget[] = [];
  try {
    const gwc = await startTarget('gwc', { maxConnections });
    started.push(gwc);
    const gatewayworker = await startGatewayWorker({ host: benchIp(100), maxConnections });
    started.push(gatewayworker);
    const plain = await startTarget('plain', { maxConnections });
    started.push(plain);
    return { gwc, gatewayworker, plain };
  } catch (error) {
    await Promise.all(started.map((target) => target.stop()));
    throw error;
  }
}

export async function runGatewayWorker(config: GatewayWorkerConfig, progress: (line: string) => void): Promise<GatewayWorkerMeasured> {
  const { missing, eventLoop } = gatewayWorkerAvailability();
  if (missing) return { skipped: missing };
  const wanted = config.loads?.map((label) => label.replace('×', 'x'));
  const unknown = wanted?.filter((label) => !LOADS.some((load) => loadLabel(load) === label));
  if (unknown?.length) throw new Error(`--gw-loads: ${unknown.join(', ')} not among ${LOADS.map(loadLabel).join(', ')}`);
  const chosen = [...LOADS.entries()].filter(([, load]) => !wanted || wanted.includes(loadLabel(load)));
  const targets = await startAll(Math.max(...chosen.map(([, load]) => load.clients)));
  try {
    const loads: LoadMeasured[] = [];
    for (const [i, load] of chosen) {
      const generators = config.generators[i] ?? config.generators.at(-1) ?? 1;
      const echo: EchoConfig = { ...config.echo, clients: load.clients, inFlight: load.inFlight, generators };
      const label = `${load.clients}×${load.inFlight}`;
      progress(`gatewayworker: ${label}, ${generators} generator process(es)...`);
      const systems = await runEchoInterleaved(targets, echo, (line) => progress(`${label} ${line}`));
      loads.push({ ...load, generators, systems });
    }
    return { eventLoop, loads };
  } finally {
    await Promise.all(Object.values<EchoTarget>(targets).map((target) => target.stop()));
  }
}
