/**
 * Where a light-load echo round trip spends its time, process by process (issue 22): one system (GatewayCluster,
 * GatewayWorker or plain ws) under a closed-loop echo of `--clients` × `--in-flight`, and for each of its processes,
 * per round trip: CPU (user and system), sleeps (voluntary context switches, one per wake-up), time preempted, time
 * runnable but waiting for a core, and with `--strace` the system calls of one more slice (strace -c, which slows
 * everything down: only the counts per round trip mean anything there).
 *
 *   node dist/test/bench/hop-probe.js [--system gwc|gatewayworker|plain] [--clients 10] [--in-flight 1]
 *                                     [--generators 1] [--measure-s 3] [--strace]
 *
 * Wrap it in `flock /tmp/gwc-bench.lock` like any benchmark. Not part of `npm run bench`: it gives no ratio, only
 * the costs behind one.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startGatewayWorker } from './gatewayworker-target.js';
import { LatencyHistogram } from './latency-histogram.js';
import { cpuTimes, installCleanup } from './processes.js';
import { connectGenerators, split, spawnGenerators, stopGenerators } from './scenarios.js';
import { benchIp, startTarget, type EchoTarget, type ServingProcess } from './targets.js';

const { values } = parseArgs({
  options: {
    system: { type: 'string', default: 'gwc' },
    clients: { type: 'string', default: '10' },
    'in-flight': { type: 'string', default: '1' },
    generators: { type: 'string', default: '1' },
    'measure-s': { type: 'string', default: '3' },
    strace: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const inFlight = Number(values['in-flight']);
const measureMs = Number(values['measure-s']) * 1000;
const WARMUP_MS = 300;

/** What /proc says of a process so far: CPU in seconds, and of its threads, switches; of its main thread, the scheduler's times in µs. */
interface ProcSample {
  user: number;
  system: number;
  voluntary: number;
  involuntary: number;
  runUs: number;
  waitUs: number;
}

function sample(pid: number): ProcSample {
  const { user, system } = cpuTimes(pid);
  let voluntary = 0;
  let involuntary = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  const [runNs = 0, waitNs = 0] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
  return { user, system, voluntary, involuntary, runUs: runNs / 1000, waitUs: waitNs / 1000 };
}

async function startSystem(): Promise<EchoTarget> {
  switch (values.system) {
    case 'gwc':
    case 'plain':
      return startTarget(values.system, { maxConnections: Math.max(clients, 1000) });
    case 'gatewayworker':
      return startGatewayWorker({ host: benchIp(100), maxConnections: Math.max(clients, 1000) });
    default:
      throw new Error(`--system: gwc, gatewayworker or plain, not ${String(values.system)}`);
  }
}

/** strace -c of `pid` (all its threads) until stopped; resolves with its table once it has exited. */
function straceCount(pid: number): { stop(): Promise<string> } {
  const child = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let table = '';
  child.stderr.on('data', (chunk: Buffer) => (table += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return table;
    },
  };
}

/** Calls per round trip from an strace -c table, the rarer than one in 50 left out. */
function callsPerRoundTrip(table: string, roundTrips: number): string {
  const rows: string[] = [];
  for (const line of table.split('\n')) {
    const cells = line.trim().split(/\s+/);
    const calls = Number(cells[3]);
    const name = cells.at(-1)!;
    if (cells.length < 5 || !/^\d/.test(cells[0]!) || name === 'total' || !(calls / roundTrips >= 0.02)) continue;
    rows.push(`${name} ${(calls / roundTrips).toFixed(2)}`);
  }
  return rows.join(', ');
}

installCleanup();
const target = await startSystem();
const shares = split(clients, Number(values.generators));
const generators = await spawnGenerators(shares);
try {
  await connectGenerators(generators, shares.map((count) => ({ url: target.url, count })));
  const watched: ServingProcess[] = [...target.servers, ...generators];
  const slice = async (label: string, strace: boolean) => {
    const marks = generators.map((g) => g.lines.length);
    for (const g of generators) g.send({ op: 'echo', inFlight, size: 64, warmupMs: WARMUP_MS, measureMs });
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const before = watched.map((p) => sample(p.pid));
    const traces = strace ? watched.map((p) => straceCount(p.pid)) : [];
    await new Promise((resolve) => setTimeout(resolve, measureMs));
    const after = watched.map((p) => sample(p.pid));
    const tables = await Promise.all(traces.map((t) => t.stop()));
    const results = await Promise.all(generators.map((g, i) => g.waitForLine({ event: 'echo-result' }, 30_000, marks[i])));
    const histogram = new LatencyHistogram();
    let roundTrips = 0;
    let rate = 0;
    for (const r of results) {
      roundTrips += Number(r.replies);
      rate += (Number(r.replies) / Number(r.windowMs)) * 1000;
      histogram.merge(new LatencyHistogram(r.histogram as number[]));
    }
    console.log(`${label}: ${Math.round(rate)} round trips/s, p50 ${histogram.quantileMs(0.5).toFixed(3)} ms, p99 ${histogram.quantileMs(0.99).toFixed(3)} ms; per round trip:`);
    for (const [i, p] of watched.entries()) {
      const per = (key: keyof ProcSample, scale = 1) => ((after[i]![key] - before[i]![key]) * scale) / roundTrips;
      if (per('user') + per('system') === 0) continue;
      const line = `  ${p.label.padEnd(22)} CPU ${per('user', 1e6).toFixed(1)} µs user + ${per('system', 1e6).toFixed(1)} µs system, ` +
        `sleeps ${per('voluntary').toFixed(2)}, preempted ${per('involuntary').toFixed(2)}, main thread on a core ${per('runUs').toFixed(1)} µs, ` +
        `runnable waiting ${per('waitUs').toFixed(1)} µs`;
      console.log(line + (strace ? `\n    system calls: ${callsPerRoundTrip(tables[i]!, roundTrips)}` : ''));
    }
  };
  await slice('warm-up', false);
  await slice('measured', false);
  await slice('measured', false);
  if (values.strace) await slice('under strace -c', true);
} finally {
  await stopGenerators(generators);
  await target.stop();
}
process.exit(0);
