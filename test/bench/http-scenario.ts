/**
 * The HTTP API at the speed of HTTP: `POST /v1/sendToUid` through `gwc api`, to WebSocket clients bound one uid each,
 * against a bare node:http server that reads and parses the same body and answers `{"result":null}`
 * (plain-http-server.ts), both loaded by `wrk` (keep-alive connections; wrk-send-to-uid.lua goes round the uids) in
 * rounds of one slice per server, back to back. Every 200 the API answered must have reached its client, and no
 * answer may be other than 200; wrk's CPU share shows whether it, not the server, was the limit.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { connectBoundClients, inRounds } from './api-scenario.js';
import { cpuSeconds } from './processes.js';
import { startApi, startPlainHttp, type ServingProcess, type Target } from './targets.js';

export interface HttpConfig {
  clients: number;
  rounds: number;
  /** Each slice's length; the uncounted warm-up slices are a quarter of it. */
  measureMs: number;
  connections: number;
  size: number;
  cpuProfDir?: string | undefined;
}

export const HTTP_WAYS = ['api', 'plain'] as const;
export type HttpWay = (typeof HTTP_WAYS)[number];

export interface HttpSlice {
  requestsPerSecond: number;
  /** CPU of wrk, and of each serving process, over the slice (1 = one core). */
  cpu: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface HttpResult {
  /** Requests per second of each slice, by way, in round order. */
  sliceRates: Record<HttpWay, number[]>;
  slices: Record<HttpWay, HttpSlice[]>;
  /** One slice per way with wrk on 2 threads after the rounds: no faster than on 1 when wrk is not the limit. */
  twoThreads: Record<HttpWay, number>;
  /** Over the counted slices: 200s the API answered, of them those wrk counted, and messages the clients received. */
  delivery: { answered: number; countedByWrk: number; received: number };
}

const script = fileURLToPath(new URL('../../../test/bench/wrk-send-to-uid.lua', import.meta.url));

export async function runHttp(target: Target, config: HttpConfig, progress: (line: string) => void): Promise<HttpResult> {
  const profile = config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {};
  const api = await startApi(profile);
  try {
    const plain = await startPlainHttp(profile);
    try {
      const clients = await connectBoundClients(target.url, api, config.clients);
      try {
        const servers: Record<HttpWay, { url: string; processes: readonly ServingProcess[] }> = {
          api: { url: `${api.url}sendToUid`, processes: [api.process, ...target.servers] },
          plain: { url: `${plain.url}sendToUid`, processes: [plain.process] },
        };
        const slices: Record<HttpWay, HttpSlice[]> = { api: [], plain: [] };
        const delivery = { answered: 0, countedByWrk: 0, received: 0 };
        /** A slice of `ms` (of the rounds when it is measureMs long on 1 thread, else a warm-up or the 2-thread check); its requests/s. */
        const slice = async (way: HttpWay, ms: number, threads = 1): Promise<number> => {
          const before = way === 'api' ? { received: clients.received(), answered: await answered200(api.metricsUrl) } : undefined;
          const cpuBefore = servers[way].processes.map((p) => cpuSeconds(p.pid));
          const { summary, cpuSeconds: wrkCpu } = await wrk(servers[way].url, { ...config, ms, threads, authorization: api.authorization });
          const cpuAfter = servers[way].processes.map((p) => cpuSeconds(p.pid));
          const problems = summary.non2xx + summary.connectErrors + summary.readErrors + summary.writeErrors + summary.timeouts;
          if (problems > 0) throw new Error(`wrk against ${way}: ${JSON.stringify(summary)}`);
          if (before) {
            const done = await deliveredAll(api.metricsUrl, before, clients.received);
            // wrk counts no answer still on its way when it stops: at most one per connection.
            if (done.answered < summary.requests || done.answered > summary.requests + config.connections) {
              throw new Error(`the API answered ${done.answered} 200s, wrk counted ${summary.requests} (with ${config.connections} connections)`);
            }
            delivery.answered += done.answered;
            delivery.countedByWrk += summary.requests;
            delivery.received += done.received;
          }
          const seconds = summary.durationUs / 1e6;
          const rate = summary.requests / seconds;
          if (ms === config.measureMs && threads === 1) {
            const cpu: Record<string, number> = { wrk: wrkCpu / seconds };
            servers[way].processes.forEach((p, i) => (cpu[p.label] = (cpuAfter[i]! - cpuBefore[i]!) / seconds));
            slices[way].push({ requestsPerSecond: rate, cpu, p50Ms: summary.p50Us / 1000, p99Ms: summary.p99Us / 1000 });
          }
          return rate;
        };
        // inRounds counts a slice's work in calls; here that is its milliseconds.
        const sliceRates = await inRounds('http', HTTP_WAYS, { calls: config.measureMs, rounds: config.rounds }, (way, ms) => slice(way, ms), progress);
        const twoThreads = { api: await slice('api', config.measureMs, 2), plain: await slice('plain', config.measureMs, 2) };
        progress(`http with 2 wrk threads: api ${Math.round(twoThreads.api)}/s, plain ${Math.round(twoThreads.plain)}/s`);
        return { sliceRates, slices, twoThreads, delivery };
      } finally {
        for (const socket of clients.sockets) socket.terminate();
      }
    } finally {
      await plain.process.stop();
    }
  } finally {
    await api.stop();
  }
}

/** The 200s the API has answered to sendToUid so far. */
async function answered200(metricsUrl: string): Promise<number> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl}: HTTP ${response.status}`);
  const sample = /^gwc_api_requests_total\{(?=[^}]*method="sendToUid")(?=[^}]*status="200")[^}]*\} (\d+)$/m.exec(await response.text());
  return sample ? Number(sample[1]) : 0;
}

/**
 * Waits until the clients have received a message for every 200 the API answered since `before` (each send reaches
 * exactly one client), and no more; both counts since `before`.
 */
async function deliveredAll(metricsUrl: string, before: { received: number; answered: number }, received: () => number) {
  const answered = (await answered200(metricsUrl)) - before.answered;
  await waitFor(`the clients to receive ${answered} messages`, () => received() - before.received >= answered, 30_000, 5);
  const got = received() - before.received;
  if (got !== answered) throw new Error(`the clients received ${got} messages for ${answered} sends answered 200`);
  return { answered, received: got };
}

interface WrkSummary {
  requests: number;
  durationUs: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  non2xx: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
}

/** One wrk run against `url` (whole seconds: wrk takes no fraction); its summary and the CPU seconds it used (as bash's `times` reports a finished child's). */
function wrk(url: string, options: { ms: number; threads: number; connections: number; clients: number; size: number; authorization: string }) {
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${Math.max(1, Math.round(options.ms / 1000))}s`, '-s', script, url];
  const env = { ...process.env, WRK_AUTHORIZATION: options.authorization, WRK_UIDS: String(options.clients), WRK_SIZE: String(options.size) };
  return new Promise<{ summary: WrkSummary; cpuSeconds: number }>((resolve, reject) => {
    const child = spawn('bash', ['-c', 'wrk "$@" && times', 'wrk', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const summary = /^WRK_SUMMARY (\{.*\})$/m.exec(output);
      // `times` ends with the user and system time of the shell's children: wrk's.
      const times = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(output);
      if (code !== 0 || !summary || !times) return reject(new Error(`wrk exited ${code}: ${output.slice(-500)}`));
      const cpu = Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
      resolve({ summary: JSON.parse(summary[1]!) as WrkSummary, cpuSeconds: cpu });
    });
  });
}
