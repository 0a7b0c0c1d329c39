/** The three measurements, each run against one freshly started target. */
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { LatencyHistogram } from './latency-histogram.js';
import { BenchProcess, cpuSeconds, machineCpuSeconds, rssBytes, type Line } from './processes.js';
import type { Pair } from './report.js';
import { IDLE_SETTLE, settleIdle, type IdleSettled } from './idle-settle.js';
import type { EchoTarget, Target } from './targets.js';

const generatorScript = fileURLToPath(new URL('./load-generator.js', import.meta.url));

let nextSourceHost = 0;
/** A fresh loopback source address per generator, so no run meets another's TIME_WAIT ports. */
function sourceAddress(): string {
  nextSourceHost++;
  return `127.0.${91 + Math.floor(nextSourceHost / 250)}.${1 + (nextSourceHost % 250)}`;
}

/** `total` split over `parts` as evenly as whole numbers allow. */
export const split = (total: number, parts: number) => Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/** Generator processes started and ready, each able to hold its number of `connections`. */
export async function spawnGenerators(connections: number[]): Promise<BenchProcess[]> {
  const generators = connections.map((count, i) => new BenchProcess(`generator${i}`, generatorScript, [], { nofile: count + 200 }));
  try {
    await Promise.all(generators.map((g) => g.waitForLine({ event: 'started' })));
    for (const g of generators) g.checkFileLimit();
    return generators;
  } catch (error) {
    await stopGenerators(generators);
    throw error;
  }
}

export interface Connecting {
  url: string;
  count: number;
}

/**
 * Each generator opens its `plan` entry's connections (each from a fresh source address); resolves with each one's
 * seconds to open them all, and fails if any could not be opened.
 */
export async function connectGenerators(generators: BenchProcess[], plan: Connecting[], options: { reconnect?: boolean } = {}): Promise<number[]> {
  const marks = generators.map((g) => g.lines.length);
  const started = process.hrtime.bigint();
  generators.forEach((g, i) => g.send({ op: 'connect', ...plan[i], localAddress: sourceAddress(), concurrency: 100, reconnect: options.reconnect ?? false }));
  const seconds: number[] = [];
  const results = await Promise.all(generators.map(async (g, i) => {
    const result = await g.waitForLine({ event: 'connected' }, 300_000, marks[i]);
    seconds[i] = Number(process.hrtime.bigint() - started) / 1e9;
    return result;
  }));
  const failed = results.reduce((sum, r) => sum + Number(r.failed), 0);
  if (failed > 0) {
    const total = plan.reduce((sum, p) => sum + p.count, 0);
    const urls = [...new Set(plan.map((p) => p.url))].join(', ');
    throw new Error(`${failed} of ${total} connections to ${urls} failed: ${String(results.find((r) => r.error)?.error)}`);
  }
  return seconds;
}

/** Generator processes, each holding its share of `clients` connections to `url`. */
async function startGenerators(count: number, clients: number, url: string): Promise<BenchProcess[]> {
  const shares = split(clients, count);
  const generators = await spawnGenerators(shares);
  try {
    await connectGenerators(generators, shares.map((share) => ({ url, count: share })));
    return generators;
  } catch (error) {
    await stopGenerators(generators);
    throw error;
  }
}

export async function stopGenerators(generators: BenchProcess[]): Promise<void> {
  await Promise.all(generators.map((g) => g.stop()));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- echo ----

export interface EchoConfig {
  clients: number;
  inFlight: number;
  size: number;
  warmupMs: number;
  measureMs: number;
  generators: number;
  /** Slices per system. */
  rounds: number;
}

export interface EchoResult {
  /** Replies in all of this system's slices over their total time. */
  roundTripsPerSecond: number;
  /** Each slice's rate, in the order run. */
  sliceRates: number[];
  p50Ms: number;
  p99Ms: number;
  /** CPU used during the slices, as a share of one core, per process label. */
  cpu: Record<string, number>;
  /** The whole machine's busy CPU in the slices (share of one core): well above the sum of `cpu` means other load. */
  machineCpu: number;
  outOfOrder: number;
}

/** One system under echo load in slices: its generators stay connected between them. */
class EchoLoad {
  private replies = 0;
  private seconds = 0;
  private outOfOrder = 0;
  private machineBusy = 0;
  private readonly sliceRates: number[] = [];
  private readonly cpu = new Map<string, number>();
  private readonly histogram = new LatencyHistogram();

  private constructor(
    readonly target: EchoTarget,
    private readonly generators: BenchProcess[],
  ) {}

  static async open(target: EchoTarget, config: EchoConfig): Promise<EchoLoad> {
    return new EchoLoad(target, await startGenerators(config.generators, config.clients, target.url));
  }

  /** Load for warmupMs, then measureMs counted (when `counted`); every reply must come back before the next slice. */
  async slice(config: EchoConfig, counted = true): Promise<number> {
    const watched = [...this.target.servers, ...this.generators];
    const marks = this.generators.map((g) => g.lines.length);
    for (const g of this.generators) g.send({ op: 'echo', inFlight: config.inFlight, size: config.size, warmupMs: config.warmupMs, measureMs: config.measureMs });
    await sleep(config.warmupMs);
    const before = watched.map((p) => cpuSeconds(p.pid));
    const machineBefore = machineCpuSeconds();
    const started = Date.now();
    await sleep(config.measureMs);
    const seconds = (Date.now() - started) / 1000;
    const cpu = watched.map((p, i) => cpuSeconds(p.pid) - before[i]!);
    const machineBusy = machineCpuSeconds().busy - machineBefore.busy;
    const results = await Promise.all(this.generators.map((g, i) => g.waitForLine({ event: 'echo-result' }, 30_000, marks[i])));
    let rate = 0;
    const histogram = new LatencyHistogram();
    for (const r of results) {
      if (Number(r.undrained) > 0 || Number(r.unexpectedCloses) > 0) {
        throw new Error(`echo on ${this.target.name}: ${String(r.undrained)} replies never came, ${String(r.unexpectedCloses)} connections closed`);
      }
      rate += (Number(r.replies) / Number(r.windowMs)) * 1000;
      this.outOfOrder += Number(r.outOfOrder);
      histogram.merge(new LatencyHistogram(r.histogram as number[]));
    }
    if (!counted) return rate;
    watched.forEach((p, i) => this.cpu.set(p.label, (this.cpu.get(p.label) ?? 0) + cpu[i]!));
    this.machineBusy += machineBusy;
    this.seconds += seconds;
    this.replies += rate * seconds;
    this.histogram.merge(histogram);
    this.sliceRates.push(rate);
    return rate;
  }

  result(): EchoResult {
    const share = (cpuSeconds: number) => cpuSeconds / this.seconds;
    return {
      roundTripsPerSecond: this.replies / this.seconds,
      sliceRates: this.sliceRates,
      p50Ms: this.histogram.quantileMs(0.5),
      p99Ms: this.histogram.quantileMs(0.99),
      cpu: Object.fromEntries([...this.cpu].map(([label, seconds]) => [label, share(seconds)])),
      machineCpu: share(this.machineBusy),
      outOfOrder: this.outOfOrder,
    };
  }

  close(): Promise<void> {
    return stopGenerators(this.generators);
  }
}

/**
 * The echo on several systems, all up at once but loaded one at a time, in short slices, one per system a round,
 * the order reversed every other round (GWC, plain, plain, GWC, ...). On the shared machine this was made on, the
 * same CPU-bound loop takes from 40 to 90 ms from one second to the next; slices a few seconds apart see the same
 * machine, and many of them average it out.
 */
export async function runEchoInterleaved<K extends string>(targets: Record<K, EchoTarget>, config: EchoConfig, progress: (line: string) => void): Promise<Record<K, EchoResult>> {
  const names = Object.keys(targets) as K[];
  const loads: EchoLoad[] = [];
  try {
    for (const name of names) loads.push(await EchoLoad.open(targets[name], config));
    // A first slice each, not counted, so that no counted slice runs code the JIT has not compiled yet.
    for (const load of loads) await load.slice(config, false);
    for (let round = 0; round < config.rounds; round++) {
      const order = round % 2 === 0 ? loads : [...loads].reverse();
      const rates = [];
      for (const load of order) rates.push(`${load.target.name} ${Math.round(await load.slice(config))}`);
      progress(`echo round ${round + 1} of ${config.rounds}: ${rates.join(', then ')} round trips/s`);
    }
    return Object.fromEntries(names.map((name, i) => [name, loads[i]!.result()])) as Record<K, EchoResult>;
  } finally {
    for (const load of loads) await load.close();
  }
}

// ---- idle connection memory ----

export interface MemoryConfig {
  connections: number;
  generators: number;
}

export interface MemoryResult {
  connections: number;
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  /** V8's committed heap (heapTotal) before the clients and with them. */
  heapCommittedBefore: number;
  heapCommittedAfter: number;
  rssPerConnection: number;
  heapPerConnection: number;
  /** V8's committed heap per connection: can exceed RSS per connection (a committed page is not resident until touched). */
  heapCommittedPerConnection: number;
  /** Mark-compacts while the connections were held before RSS counted (at least one when settled). */
  majorGcs: number;
  settled: boolean;
  /** The conditions unmet at the deadline (see notSettledBecause), before the clients and with them; empty when settled. */
  notSettledBecause: { before: string[]; after: string[] };
}

/** Holder `holder`'s RSS and heap once settled (see IDLE_SETTLE). */
export function settleHolder(target: Target, minMs: number, holder = 0, timeoutMs?: number): Promise<IdleSettled> {
  return settleIdle(() => target.heap(holder), () => rssBytes(target.holders[holder]!.pid), minMs, timeoutMs);
}

export async function runMemory(target: Target, config: MemoryConfig, progress: (line: string) => void = () => {}): Promise<MemoryResult> {
  const settle = async (stage: string, minMs: number) => {
    const started = Date.now();
    const reading = await settleHolder(target, minMs);
    const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
    const heap = `heap ${mib(reading.heapTotal)} MiB committed, ${mib(reading.heapUsed)} used, young generation ${mib(reading.newSpace)}`;
    const outcome = reading.settled ? 'settled' : `NOT settled (${reading.notSettledBecause.join('; ')})`;
    progress(`memory ${config.connections} ${target.name} ${stage}: ${outcome} after ${((Date.now() - started) / 1000).toFixed(0)} s, ${heap}`);
    return reading;
  };
  const before = await settle('before the clients', IDLE_SETTLE.beforeMs);
  const generators = await startGenerators(config.generators, config.connections, target.url);
  try {
    await waitFor(`${config.connections} connections on ${target.name}`, async () => (await target.connections()) === config.connections, 30_000, 200);
    const after = await settle('with the clients', IDLE_SETTLE.afterMs);
    return {
      connections: config.connections,
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heapUsed,
      heapAfter: after.heapUsed,
      heapCommittedBefore: before.heapTotal,
      heapCommittedAfter: after.heapTotal,
      rssPerConnection: (after.rss - before.rss) / config.connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / config.connections,
      heapCommittedPerConnection: (after.heapTotal - before.heapTotal) / config.connections,
      majorGcs: after.majorGcs,
      settled: before.settled && after.settled,
      notSettledBecause: { before: before.notSettledBecause, after: after.notSettledBecause },
    };
  } finally {
    await stopGenerators(generators);
  }
}

// ---- fan-out ----

export interface FanoutConfig {
  clients: number;
  broadcasts: number;
  size: number;
  generators: number;
}

export interface FanoutResult {
  deliveries: number;
  seconds: number;
  deliveriesPerSecond: number;
}

export async function runFanout(target: Target, config: FanoutConfig): Promise<FanoutResult> {
  const generators = await startGenerators(config.generators, config.clients, target.url);
  try {
    await target.prepareBroadcast();
    const marks = generators.map((g) => g.lines.length);
    for (const g of generators) g.send({ op: 'count', expected: config.broadcasts });
    await Promise.all(generators.map((g, i) => g.waitForLine({ event: 'counting' }, 10_000, marks[i])));
    const startNs = process.hrtime.bigint();
    await target.broadcast(config.broadcasts, 'f'.repeat(config.size));
    let done: Line[];
    try {
      done = await Promise.all(generators.map((g, i) => g.waitForLine({ event: 'count-done' }, 60_000, marks[i])));
    } catch (error) {
      for (const g of generators) g.send({ op: 'report' });
      await sleep(500);
      const delivered = generators.map((g) => g.lines.findLast((l) => l.event === 'report')?.delivered);
      throw new Error(`fan-out on ${target.name}: not every delivery arrived (delivered per generator: ${delivered.join(', ')}): ${(error as Error).message}`);
    }
    const lastNs = done.reduce((max, l) => (BigInt(String(l.lastAtNs)) > max ? BigInt(String(l.lastAtNs)) : max), 0n);
    const seconds = Number(lastNs - startNs) / 1e9;
    const deliveries = config.clients * config.broadcasts;
    return { deliveries, seconds, deliveriesPerSecond: deliveries / seconds };
  } finally {
    await stopGenerators(generators);
  }
}
