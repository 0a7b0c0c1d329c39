/**
 * Many connections (issue 22, goal 4), on GatewayCluster (one Register, `holders` gateways, `workers` workers) and
 * then on as many plain `ws` processes, each freshly started: clients arrive in stages (accepts per second per
 * holder, RSS per connection after each stage), one sendToAll of `size` bytes to all (first and last delivery),
 * then a reconnect storm: holder 0 is killed and started again while its clients reconnect with jittered backoff,
 * and probe clients on the other holders echo meanwhile. One load-generator process per holder, each from its own
 * 127.x source addresses, so neither the open-file limit nor the ephemeral ports run out.
 */
import { waitFor } from '../harness/wait.js';
import { LatencyHistogram } from './latency-histogram.js';
import { growthPerConnection, holderSettled, IDLE_SETTLE, type IdleSettled } from './idle-settle.js';
import { cpuSeconds, machineCpuSeconds, type BenchProcess } from './processes.js';
import { connectGenerators, settleHolder, spawnGenerators, split, stopGenerators } from './scenarios.js';
import { startTarget, type Target } from './targets.js';

export interface ScaleConfig {
  /** Connections in all, at the last stage. */
  connections: number;
  holders: number;
  workers: number;
  /** Share of `connections` open at each stage, ascending, the last 1. */
  stages: number[];
  size: number;
  /** Echo clients (1 in flight) on each holder but the killed one, during the storm and before it. */
  probeClients: number;
  /** Echo time before the storm, for the probes' p99 then. */
  probeMs: number;
  /** How long past the least watch (IDLE_SETTLE) each holder's RSS may take to settle before it is counted apart. */
  settleTimeoutMs: number;
}

export interface StageResult {
  connections: number;
  /** Connections accepted per second by each holder in this stage (its new clients over the time they took). */
  acceptsPerSecond: number[];
  /** (holders' RSS − their RSS before any client) / connections, every holder, settled or not. */
  rssPerConnection: number;
  /** The same over the holders whose RSS settled (see IDLE_SETTLE) before any client and after this stage (NaN: none). */
  settledRssPerConnection: number;
  /** Per holder: whether its RSS settled, and the mark-compacts it saw while watched after this stage. */
  holders: Array<{ settled: boolean; majorGcs: number; newSpace: number; watchedSeconds: number }>;
  /**
   * Mean CPU of a holder and of a load generator while the stage's clients arrived, and the whole machine's busy CPU
   * (all cores), as shares of one core.
   */
  cpu: { holder: number; generator: number; machine: number };
}

export interface StormResult {
  clients: number;
  /** Why the storm could not be measured (the figures are then NaN): the stages' figures are kept and reported. */
  failed?: string;
  /** From the kill until the holder served again, and until every one of its clients was connected again. */
  holderBackSeconds: number;
  allBackSeconds: number;
  /** The probes' echo p99 on the other holders before the kill, and from the kill until all were back. */
  p99BeforeMs: number;
  p99DuringMs: number;
}

export interface ScaleRun {
  stages: StageResult[];
  /** One sendToAll: from the call until the first and until the last client got it. */
  broadcast: { firstMs: number; lastMs: number };
  storm: StormResult;
}

export type ScaleResult = Record<'gwc' | 'plain', ScaleRun>;

export async function runScale(config: ScaleConfig, progress: (line: string) => void): Promise<ScaleResult> {
  const gwc = await onFresh('gwc', config, progress);
  const plain = await onFresh('plain', config, progress);
  return { gwc, plain };
}

async function onFresh(name: 'gwc' | 'plain', config: ScaleConfig, progress: (line: string) => void): Promise<ScaleRun> {
  const perHolder = split(config.connections, config.holders);
  const target = await startTarget(name, { maxConnections: perHolder[0]! + config.probeClients + 100, holders: config.holders, workers: config.workers });
  try {
    const generators = await spawnGenerators(perHolder);
    try {
      const stages = await arrive(target, generators, config, progress);
      const broadcast = await timeBroadcast(target, generators, config.size);
      progress(`scale ${name}: sendToAll reached the first client after ${broadcast.firstMs.toFixed(1)} ms, the last after ${broadcast.lastMs.toFixed(1)} ms`);
      const storm = await reconnectStorm(target, generators[0]!, perHolder[0]!, config).catch((error: Error): StormResult =>
        ({ clients: perHolder[0]!, failed: error.message, holderBackSeconds: NaN, allBackSeconds: NaN, p99BeforeMs: NaN, p99DuringMs: NaN }));
      progress(`scale ${name}: ${storm.clients} clients of a killed holder ${storm.failed ? `not measured: ${storm.failed}` : `all back after ${storm.allBackSeconds.toFixed(2)} s`}`);
      return { stages, broadcast, storm };
    } finally {
      await stopGenerators(generators);
    }
  } finally {
    await target.stop();
  }
}

function meanCpuShare(processes: readonly BenchProcess[], before: number[], seconds: number): number {
  return processes.reduce((sum, p, i) => sum + cpuSeconds(p.pid) - before[i]!, 0) / processes.length / seconds;
}

/** Each holder's RSS once it has settled (see IDLE_SETTLE), as the memory scenario's holder, or once its time is up; and the seconds it took. */
async function settledRss(target: Target, minMs: number, timeoutMs: number): Promise<Array<IdleSettled & { seconds: number }>> {
  const started = Date.now();
  return Promise.all(target.holders.map(async (_, i) => ({ ...(await settleHolder(target, minMs, i, timeoutMs)), seconds: (Date.now() - started) / 1000 })));
}

async function arrive(target: Target, generators: BenchProcess[], config: ScaleConfig, progress: (line: string) => void): Promise<StageResult[]> {
  const before = await settledRss(target, IDLE_SETTLE.beforeMs, config.settleTimeoutMs);
  const stages: StageResult[] = [];
  let open = new Array<number>(config.holders).fill(0);
  for (const share of config.stages) {
    const total = Math.round(config.connections * share);
    const next = split(total, config.holders);
    const added = next.map((count, i) => count - open[i]!);
    const cpuBefore = [target.holders, generators].map((processes) => processes.map((p) => cpuSeconds(p.pid)));
    const machineBefore = machineCpuSeconds().busy;
    const seconds = await connectGenerators(generators, added.map((count, i) => ({ url: target.urls[i]!, count })), { reconnect: true });
    const [holderCpu, generatorCpu] = [target.holders, generators].map((processes, k) => meanCpuShare(processes, cpuBefore[k]!, Math.max(...seconds)));
    const machineCpu = (machineCpuSeconds().busy - machineBefore) / Math.max(...seconds);
    open = next;
    await waitFor(`${total} connections on ${target.name}`, async () => {
      const counts = await Promise.all(target.holders.map((_, i) => target.connections(i)));
      return counts.every((count, i) => count === open[i]);
    }, 30_000, 200);
    const after = await settledRss(target, IDLE_SETTLE.afterMs, config.settleTimeoutMs);
    const readings = after.map((reading, i) => ({ connections: open[i]!, before: before[i]!, after: reading }));
    const growth = growthPerConnection(readings);
    const stage: StageResult = {
      connections: total,
      acceptsPerSecond: added.map((count, i) => count / seconds[i]!),
      rssPerConnection: growth.all,
      settledRssPerConnection: growth.settled,
      holders: readings.map((holder) => ({ settled: holderSettled(holder), majorGcs: holder.after.majorGcs, newSpace: holder.after.newSpace, watchedSeconds: holder.after.seconds })),
      cpu: { holder: holderCpu!, generator: generatorCpu!, machine: machineCpu },
    };
    const mean = stage.acceptsPerSecond.reduce((a, b) => a + b, 0) / config.holders;
    const watch = stage.holders.map((h) => `${h.settled ? 'settled' : 'NOT settled'} ${h.watchedSeconds.toFixed(0)} s ${h.majorGcs} MC`).join(', ');
    progress(`scale ${target.name}: ${total} connections, ${Math.round(mean)} accepts/s per holder, ${(stage.rssPerConnection / 1024).toFixed(2)} KiB RSS each ` +
      `(${growth.settledHolders} of ${config.holders} holders settled: ${(growth.settled / 1024).toFixed(2)} KiB; ${watch})`);
    stages.push(stage);
  }
  return stages;
}

async function timeBroadcast(target: Target, generators: BenchProcess[], size: number): Promise<ScaleRun['broadcast']> {
  await target.prepareBroadcast();
  const marks = generators.map((g) => g.lines.length);
  for (const g of generators) g.send({ op: 'count', expected: 1 });
  await Promise.all(generators.map((g, i) => g.waitForLine({ event: 'counting' }, 10_000, marks[i])));
  const startNs = process.hrtime.bigint();
  await target.broadcast(1, 'a'.repeat(size));
  const done = await Promise.all(generators.map((g, i) => g.waitForLine({ event: 'count-done' }, 60_000, marks[i])));
  const sinceStart = (field: string) => done.map((line) => Number(BigInt(String(line[field])) - startNs) / 1e6);
  return { firstMs: Math.min(...sinceStart('firstAtNs')), lastMs: Math.max(...sinceStart('lastAtNs')) };
}

/** Open connections of `generator` now. */
async function openOn(generator: BenchProcess): Promise<number> {
  const mark = generator.lines.length;
  generator.send({ op: 'report' });
  return Number((await generator.waitForLine({ event: 'report' }, 10_000, mark)).open);
}

/** An echo of `ms` on the probe generator; its latencies. */
async function probeEcho(probe: BenchProcess, size: number, ms: number): Promise<LatencyHistogram> {
  const mark = probe.lines.length;
  probe.send({ op: 'echo', inFlight: 1, size, warmupMs: 0, measureMs: ms });
  const result = await probe.waitForLine({ event: 'echo-result' }, ms + 30_000, mark);
  if (Number(result.undrained) > 0 || Number(result.unexpectedCloses) > 0) throw new Error('probe echo during the reconnect storm: replies lost or connections closed');
  return new LatencyHistogram(result.histogram as number[]);
}

async function reconnectStorm(target: Target, victim: BenchProcess, clients: number, config: ScaleConfig): Promise<StormResult> {
  const others = target.urls.slice(1);
  const [probe] = await spawnGenerators([others.length * config.probeClients]);
  try {
    for (const url of others) await connectGenerators([probe!], [{ url, count: config.probeClients }]);
    await probeEcho(probe!, config.size, 500); // warm
    const before = await probeEcho(probe!, config.size, config.probeMs);
    const killed = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - killed) / 1e9;
    let holderBackSeconds = NaN;
    const back = (async () => {
      await target.restartHolder(0);
      holderBackSeconds = elapsed();
      await waitFor(`${clients} clients to reconnect to ${target.name}`, async () => (await openOn(victim)) === clients, 120_000, 100);
      return elapsed();
    })();
    let settled = false;
    void back.finally(() => (settled = true)).catch(() => {});
    const during = new LatencyHistogram();
    while (!settled) during.merge(await probeEcho(probe!, config.size, 1000));
    return { clients, holderBackSeconds, allBackSeconds: await back, p99BeforeMs: before.quantileMs(0.99), p99DuringMs: during.quantileMs(0.99) };
  } finally {
    await stopGenerators([probe!]);
  }
}
