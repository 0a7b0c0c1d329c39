import { writeFileSync } from 'node:fs';
import { API_WAYS, type ApiResult, type ApiWay } from './api-scenario.js';
import { COMPAT_WAYS, type CompatResult, type CompatWay } from './compat-scenario.js';
import { formatGatewayWorker, summarizeGatewayWorker, type GatewayWorkerSummary } from './gatewayworker-report.js';
import type { GatewayWorkerMeasured } from './gatewayworker-scenario.js';
import { formatScale } from './scale-report.js';
import type { ScaleConfig, ScaleResult } from './scale-scenario.js';
import type { HttpResult, HttpSlice } from './http-scenario.js';
import type { EchoResult, FanoutResult, MemoryResult } from './scenarios.js';

/** Targets from the issue. */
export const TARGETS = { echoRatioMin: 0.8, rssPerIdleConnectionMaxBytes: 4 * 1024, httpRatioMin: 0.7, batchRatioMin: 0.8 };

export interface Pair<T> {
  gwc: T;
  plain: T;
}

export interface BenchResults {
  config: Record<string, unknown>;
  /**
   * `ratio`: the median of `roundRatios`, each the ratio of one round's two slices (run back to back), which a
   * slow spell of the machine during one slice moves less than it moves a mean; `overallRatio`: of the two
   * systems' rates over all their slices.
   */
  echo?: Pair<EchoResult> & { ratio: number; overallRatio: number; roundRatios: number[]; meetsTarget: boolean };
  /** One per --idle-connections count; the target: at most 4 KiB RSS per connection and at most plain ws's. */
  memory?: Array<Pair<MemoryResult> & { meetsTarget: boolean }>;
  fanout?: Pair<FanoutResult> & { ratio: number };
  /**
   * `callsPerSecond`: each way's calls over all its slices; `ratio`: the median of the rounds' ratios of a way's
   * slice to the GatewayClient's slice of the same round.
   */
  api?: ApiResult & { callsPerSecond: Record<ApiWay, number>; ratio: Record<ApiWay, number>; batchMeetsTarget: boolean };
  /** As `echo`: `ratio` the median of the rounds' ratios of the API's requests/s to the bare HTTP server's. */
  http?: HttpResult & { requestsPerSecond: { api: number; plain: number }; ratio: number; roundRatios: number[]; meetsTarget: boolean };
  /** As `api`, against the curl slices: the GatewayClient ways' rates over PHP with curl through the HTTP API. */
  compat?: CompatResult & { callsPerSecond: Record<CompatWay, number>; ratio: Record<CompatWay, number> };
  /** The echo at issue 22's loads against GatewayWorker itself and plain ws; see gatewayworker-report.ts. */
  gatewayworker?: GatewayWorkerSummary;
  /** Many connections over several holders, then a reconnect storm; see scale-scenario.ts. */
  scale?: ScaleResult;
}

interface Measured {
  echo?: Pair<EchoResult> | undefined;
  memory?: Array<Pair<MemoryResult>> | undefined;
  fanout?: Pair<FanoutResult> | undefined;
  api?: ApiResult | undefined;
  http?: HttpResult | undefined;
  compat?: CompatResult | undefined;
  gatewayworker?: GatewayWorkerMeasured | undefined;
  scale?: ScaleResult | undefined;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The mean of rates of slices of the same length: requests over all of them per second. */
export function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Each way's calls over all its slices (every slice makes the same calls: the harmonic mean of their rates), and the median of its ratios to `reference`'s slice of the same round. */
function perWay<W extends string>(ways: readonly W[], sliceRates: Record<W, number[]>, reference: W) {
  const byWay = <T>(f: (way: W) => T) => Object.fromEntries(ways.map((way) => [way, f(way)])) as Record<W, T>;
  return {
    callsPerSecond: byWay((way) => sliceRates[way].length / sliceRates[way].reduce((sum, rate) => sum + 1 / rate, 0)),
    ratio: byWay((way) => median(sliceRates[way].map((rate, i) => rate / sliceRates[reference][i]!))),
  };
}

export function summarize(config: Record<string, unknown>, { echo, memory, fanout, api, http, compat, gatewayworker, scale }: Measured): BenchResults {
  const results: BenchResults = { config };
  if (echo) {
    const overallRatio = echo.gwc.roundTripsPerSecond / echo.plain.roundTripsPerSecond;
    const roundRatios = echo.gwc.sliceRates.map((rate, i) => rate / echo.plain.sliceRates[i]!);
    const ratio = median(roundRatios);
    results.echo = { ...echo, ratio, overallRatio, roundRatios, meetsTarget: ratio >= TARGETS.echoRatioMin };
  }
  if (memory?.length) {
    results.memory = memory.map((pair) => ({
      ...pair,
      meetsTarget: pair.gwc.rssPerConnection <= TARGETS.rssPerIdleConnectionMaxBytes && pair.gwc.rssPerConnection <= pair.plain.rssPerConnection,
    }));
  }
  if (fanout) results.fanout = { ...fanout, ratio: fanout.gwc.deliveriesPerSecond / fanout.plain.deliveriesPerSecond };
  if (api) {
    const ways = perWay(API_WAYS, api.sliceRates, 'client');
    results.api = { ...api, ...ways, batchMeetsTarget: ways.ratio.batch >= TARGETS.batchRatioMin };
  }
  if (http) {
    const roundRatios = http.sliceRates.api.map((rate, i) => rate / http.sliceRates.plain[i]!);
    const ratio = median(roundRatios);
    const requestsPerSecond = { api: mean(http.sliceRates.api), plain: mean(http.sliceRates.plain) };
    results.http = { ...http, requestsPerSecond, ratio, roundRatios, meetsTarget: ratio >= TARGETS.httpRatioMin };
  }
  if (compat) results.compat = { ...compat, ...perWay(COMPAT_WAYS, compat.sliceRates, 'curl') };
  if (gatewayworker) results.gatewayworker = summarizeGatewayWorker(gatewayworker);
  if (scale) results.scale = scale;
  return results;
}

/** Rows (the first is the header) as aligned text lines. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) => row.map((cell, col) => cell.padEnd(widths[col]!)).join(' | ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)];
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const ms = (n: number) => `${n.toFixed(2)} ms`;
export const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;
export const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
/** The lowest and highest of some ratios, as `a to b`. */
const rangeOf = (ratios: number[]) => `${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** One line per memory holder and stage that did not settle: which system, how many connections, which conditions failed. */
export function notSettledLines(pair: Pair<MemoryResult>): string[] {
  const systems = [['GatewayCluster gateway', pair.gwc], ['plain ws', pair.plain]] as const;
  return systems.flatMap(([name, result]) => (['before', 'after'] as const).flatMap((stage) => {
    const reasons = result.notSettledBecause[stage];
    return reasons.length > 0 ? [`${name} at ${int(result.connections)}, ${stage === 'before' ? 'before its clients' : 'with its clients'}: ${reasons.join('; ')}`] : [];
  }));
}

export function formatReport(results: BenchResults): string {
  const rows: string[][] = [['metric', 'GatewayCluster', 'plain ws', 'GWC/plain', 'target']];
  const { echo, memory, fanout, api } = results;
  if (echo) {
    rows.push(['echo round trips/s', int(echo.gwc.roundTripsPerSecond), int(echo.plain.roundTripsPerSecond), echo.ratio.toFixed(2),
      `>= ${TARGETS.echoRatioMin} ${verdict(echo.meetsTarget)}`]);
    rows.push(['echo latency p50', ms(echo.gwc.p50Ms), ms(echo.plain.p50Ms), (echo.gwc.p50Ms / echo.plain.p50Ms).toFixed(2), '']);
    rows.push(['echo latency p99', ms(echo.gwc.p99Ms), ms(echo.plain.p99Ms), (echo.gwc.p99Ms / echo.plain.p99Ms).toFixed(2), '']);
  }
  for (const pair of memory ?? []) {
    const at = `, ${int(pair.gwc.connections)}`;
    rows.push([`RSS per idle connection${at}`, kib(pair.gwc.rssPerConnection), kib(pair.plain.rssPerConnection),
      (pair.gwc.rssPerConnection / pair.plain.rssPerConnection).toFixed(2), `<= ${kib(TARGETS.rssPerIdleConnectionMaxBytes)} and plain ${verdict(pair.meetsTarget)}`]);
    rows.push([`heap per idle connection${at}`, kib(pair.gwc.heapPerConnection), kib(pair.plain.heapPerConnection),
      (pair.gwc.heapPerConnection / pair.plain.heapPerConnection).toFixed(2), '']);
    rows.push([`V8 heap committed per idle connection${at}`, kib(pair.gwc.heapCommittedPerConnection), kib(pair.plain.heapCommittedPerConnection),
      (pair.gwc.heapCommittedPerConnection / pair.plain.heapCommittedPerConnection).toFixed(2), '']);
    const heapAfter = (r: MemoryResult) => `${mib(r.heapCommittedAfter)} / ${mib(r.heapAfter)}`;
    rows.push([`V8 heap committed / used${at}`, heapAfter(pair.gwc), heapAfter(pair.plain), '', '']);
    rows.push([`RSS before → after${at}`, `${mib(pair.gwc.rssBefore)} → ${mib(pair.gwc.rssAfter)}`,
      `${mib(pair.plain.rssBefore)} → ${mib(pair.plain.rssAfter)}`, '', '']);
  }
  if (fanout) {
    rows.push(['sendToAll deliveries/s', int(fanout.gwc.deliveriesPerSecond), int(fanout.plain.deliveriesPerSecond), fanout.ratio.toFixed(2), '']);
  }
  const out = rows.length > 1 ? table(rows) : [];
  if (echo) {
    out.push('', `Echo: ${echo.roundRatios.length} rounds of one slice per system, back to back. Rates are over all slices (their ratio: ` +
      `${echo.overallRatio.toFixed(2)}); GWC/plain is the median of the rounds' ratios, which range from ${rangeOf(echo.roundRatios)}.`);
    const cpu = (r: EchoResult) => `${Object.entries(r.cpu).map(([label, share]) => `${label} ${pct(share)}`).join(', ')} (machine ${pct(r.machineCpu)})`;
    out.push('', 'CPU during the echo slices (100% = one core; "machine" also counts the kernel and any other load):');
    out.push(`  GWC:   ${cpu(echo.gwc)}`, `  plain: ${cpu(echo.plain)}`);
    if (echo.gwc.outOfOrder + echo.plain.outOfOrder > 0) {
      out.push(`REPLIES OUT OF ORDER (a client's echoes must come back in the order sent): GWC ${echo.gwc.outOfOrder}, plain ${echo.plain.outOfOrder}`);
    }
  }
  const unsettled = (memory ?? []).flatMap((pair) => notSettledLines(pair));
  if (unsettled.length > 0) out.push('', 'Holders whose RSS did not settle by the deadline (see IDLE_SETTLE), and why:', ...unsettled.map((line) => `  ${line}`));
  if (api) {
    const apiConfig = results.config.api as { clients: number; concurrency: number; batchSize: number };
    const way = (name: ApiWay, label: string) => `  ${label.padEnd(34)} ${int(api.callsPerSecond[name]).padStart(8)} calls/s   ${api.ratio[name].toFixed(2)}`;
    out.push('', `HTTP API: sendToUid to ${apiConfig.clients} clients (one uid each), ${apiConfig.concurrency} in flight, until delivered; ` +
      'ratio: median over the rounds of each way against the GatewayClient slice of the same round',
      way('client', 'GatewayClient in-process (reference)'), way('http', 'POST /v1/sendToUid'), way('batch', `POST /v1/batch of ${apiConfig.batchSize} calls`),
      `  /v1/batch against GatewayClient: >= ${TARGETS.batchRatioMin} ${verdict(api.batchMeetsTarget)}`);
  }
  if (results.http) out.push('', ...formatHttp(results.http, results.config.http as { clients: number; connections: number }));
  if (results.compat) {
    const { compat } = results;
    const compatConfig = results.config.compat as { clients: number; processes: number };
    const way = (name: CompatWay, label: string) => `  ${label.padEnd(46)} ${int(compat.callsPerSecond[name]).padStart(8)} calls/s   ${compat.ratio[name].toFixed(2)}`;
    out.push('', `GatewayWorker compat: Gateway::sendToUid from PHP to ${compatConfig.clients} clients (one uid each), ${compatConfig.processes} PHP processes, until delivered; ` +
      'ratio: median over the rounds against the curl slice of the same round',
      way('curl', 'PHP curl, POST /v1/sendToUid (reference)'), way('gatewayclient', 'PHP GatewayClient through the compat port'),
      way('persistent', 'the same, $persistentConnection = true'));
  }
  if (results.gatewayworker) {
    const { rounds } = (results.config.gatewayworker as { echo: { rounds: number } }).echo;
    out.push('', formatGatewayWorker(results.gatewayworker, rounds));
  }
  if (results.scale) out.push('', formatScale(results.scale, results.config.scale as ScaleConfig));
  return out.join('\n');
}

function formatHttp(http: NonNullable<BenchResults['http']>, config: { clients: number; connections: number }): string[] {
  const cpu = (slices: HttpSlice[]) => Object.keys(slices[0]!.cpu).map((label) => `${label} ${pct(mean(slices.map((s) => s.cpu[label]!)))}`).join(', ');
  const perRequest = (slices: HttpSlice[], label: string) => median(slices.map((s) => (1e6 * (s.cpu[label] ?? Number.NaN)) / s.requestsPerSecond)).toFixed(1);
  const latency = (slices: HttpSlice[]) => `p50 ${ms(mean(slices.map((s) => s.p50Ms)))}, p99 ${ms(mean(slices.map((s) => s.p99Ms)))}`;
  const { delivery } = http;
  const wrkLimits = http.twoThreads.plain > 1.05 * http.requestsPerSecond.plain || http.twoThreads.api > 1.05 * http.requestsPerSecond.api;
  return [
    `HTTP: POST /v1/sendToUid to ${config.clients} clients (one uid each) by wrk (1 thread, ${config.connections} keep-alive connections), ` +
      `against a bare node:http server parsing the same body; ${http.roundRatios.length} rounds of one slice each, back to back`,
    `  gwc api              ${int(http.requestsPerSecond.api).padStart(8)} requests/s   (${latency(http.slices.api)})`,
    `  bare node:http       ${int(http.requestsPerSecond.plain).padStart(8)} requests/s   (${latency(http.slices.plain)})`,
    `  API/bare: ${http.ratio.toFixed(2)} (median; rounds ${rangeOf(http.roundRatios)}), target >= ${TARGETS.httpRatioMin} ${verdict(http.meetsTarget)}`,
    `  CPU (100% = one core): API slices ${cpu(http.slices.api)}; bare slices ${cpu(http.slices.plain)}`,
    `  CPU per request (median of the slices; less moved by other load than requests/s): gwc api ${perRequest(http.slices.api, 'api')} µs ` +
      `(its gateway ${perRequest(http.slices.api, 'gateway')} µs more), bare ${perRequest(http.slices.plain, 'plain-http')} µs`,
    `  wrk on 2 threads: API ${int(http.twoThreads.api)}/s, bare ${int(http.twoThreads.plain)}/s: ${wrkLimits ? 'MORE than on 1 thread, wrk may be the limit' : 'no more than on 1 thread (within 5%), wrk is not the limit'}`,
    `  delivered: the API answered ${int(delivery.answered)} sends 200 (wrk saw ${int(delivery.countedByWrk)}, the rest in flight as it stopped), ` +
      `the clients received ${int(delivery.received)}; no answer other than 200`,
  ];
}

export function writeJson(path: string, results: BenchResults): void {
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n');
}
