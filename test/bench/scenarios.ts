/** The three measurements, each run against one freshly started target. */
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { LatencyHistogram } from './latency-histogram.js';
import { BenchProcess, cpuSeconds, machineCpuSeconds, rssBytes, type Line } from './processes.js';
import type { Target } from './targets.js';

const generatorScript = fileURLToPath(new URL('./load-generator.js', import.meta.url));

let nextSourceHost = 0;
/** A fresh loopback source address per generator, so no run meets another's TIME_WAIT ports. */
function sourceAddress(): string {
  nextSourceHost++;
  return `127.0.${91 + Math.floor(nextSourceHost / 250)}.${1 + (nextSourceHost % 250)}`;
}

/** Generator processes, each holding its share of `clients` connections to `url`. */
async function startGenerators(count: number, clients: number, url: string): Promise<BenchProcess[]> {
  const share = (i: number) => Math.floor(clients / count) + (i < clients % count ? 1 : 0);
  const generators = Array.from({ length: count }, (_, i) => new BenchProcess(`generator${i}`, generatorScript, [], { nofile: share(i) + 200 }));
  try {
    await Promise.all(generators.map((g) => g.waitForLine({ event: 'started' })));
    for (const g of generators) g.checkFileLimit();
    generators.forEach((g, i) => g.send({ op: 'connect', url, count: share(i), localAddress: sourceAddress(), concurrency: 100 }));
    const results = await Promise.all(generators.map((g) => g.waitForLine({ event: 'connected' }, 120_000)));
    const failed = results.reduce((sum, r) => sum + Number(r.failed), 0);
    if (failed > 0) throw new Error(`${failed} of ${clients} connections to ${url} failed: ${String(results.find((r) => r.error)?.error)}`);
    return generators;
  } catch (error) {
    await stopGenerators(generators);
    throw error;
  }
}

async function stopGenerators(generators: BenchProcess[]): Promise<void> {
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
}

export interface EchoResult {
  roundTripsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU used during the measurement window, as a share of one core, per process label. */
  cpu: Record<string, number>;
  /** The whole machine's busy CPU in the window (share of one core): well above the sum of `cpu` means other load. */
  machineCpu: number;
  outOfOrder: number;
}

export async function runEcho(target: Target, config: EchoConfig): Promise<EchoResult> {
  const generators = await startGenerators(config.generators, config.clients, target.url);
  try {
    const watched = [...target.servers, ...generators];
    for (const g of generators) g.send({ op: 'echo', inFlight: config.inFlight, size: config.size, warmupMs: config.warmupMs, measureMs: config.measureMs });
    await sleep(config.warmupMs);
    const before = watched.map((p) => cpuSeconds(p.pid));
    const machineBefore = machineCpuSeconds();
    const started = Date.now();
    await sleep(config.measureMs);
    const seconds = (Date.now() - started) / 1000;
    const cpu = Object.fromEntries(watched.map((p, i) => [p.label, (cpuSeconds(p.pid) - before[i]!) / seconds]));
    const machineCpu = (machineCpuSeconds().busy - machineBefore.busy) / seconds;
    const results = await Promise.all(generators.map((g) => g.waitForLine({ event: 'echo-result' }, 30_000)));
    const histogram = new LatencyHistogram();
    let rate = 0;
    let outOfOrder = 0;
    for (const r of results) {
      if (Number(r.undrained) > 0 || Number(r.unexpectedCloses) > 0) {
        throw new Error(`echo on ${target.name}: ${String(r.undrained)} replies never came, ${String(r.unexpectedCloses)} connections closed`);
      }
      rate += (Number(r.replies) / Number(r.windowMs)) * 1000;
      outOfOrder += Number(r.outOfOrder);
      histogram.merge(new LatencyHistogram(r.histogram as number[]));
    }
    return { roundTripsPerSecond: rate, p50Ms: histogram.quantileMs(0.5), p99Ms: histogram.quantileMs(0.99), cpu, machineCpu, outOfOrder };
  } finally {
    await stopGenerators(generators);
  }
}

// ---- idle connection memory ----

export interface MemoryConfig {
  connections: number;
  generators: number;
}

export interface MemoryResult {
  rssBefore: number;
  rssAfter: number;
  heapBefore: number;
  heapAfter: number;
  rssPerConnection: number;
  heapPerConnection: number;
  settled: boolean;
}

interface Settled {
  rss: number;
  heap: number;
  stable: boolean;
}

/** Samples RSS and heap until RSS has stayed within 0.5% for 2 s (GC done); the heap is the lowest seen then. */
async function settle(target: Target, timeoutMs = 30_000): Promise<Settled> {
  const samples: Array<{ rss: number; heap: number }> = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    samples.push({ rss: rssBytes(target.holder.pid), heap: await target.heapUsedBytes() });
    const recent = samples.slice(-5);
    const rss = recent.map((s) => s.rss);
    const stable = recent.length === 5 && Math.max(...rss) - Math.min(...rss) <= 0.005 * Math.max(...rss);
    if (stable || Date.now() > deadline) {
      return { rss: recent.at(-1)!.rss, heap: Math.min(...recent.map((s) => s.heap)), stable };
    }
    await sleep(500);
  }
}

export async function runMemory(target: Target, config: MemoryConfig): Promise<MemoryResult> {
  const before = await settle(target);
  const generators = await startGenerators(config.generators, config.connections, target.url);
  try {
    await waitFor(`${config.connections} connections on ${target.name}`, async () => (await target.connections()) === config.connections, 30_000, 200);
    const after = await settle(target);
    return {
      rssBefore: before.rss,
      rssAfter: after.rss,
      heapBefore: before.heap,
      heapAfter: after.heap,
      rssPerConnection: (after.rss - before.rss) / config.connections,
      heapPerConnection: (after.heap - before.heap) / config.connections,
      settled: before.stable && after.stable,
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
