/** The GatewayWorker echo's figures: ratios over the rounds, the goals, and what the load generator used. */
import { SYSTEMS, type GatewayWorkerMeasured, type LoadMeasured, type System } from './gatewayworker-scenario.js';
import { int, median, ms, pct, table, verdict } from './report.js';
import type { EchoResult } from './scenarios.js';

/** Issue 22's goals for the echo. */
export const GATEWAYWORKER_GOALS = { overGatewayWorker: 1.2, overPlain: 1.0 };
/** A generator above this share of one core may be what limits the rate. */
const GENERATOR_SATURATED = 0.9;

export interface RoundRatio {
  /** Median of the rounds' ratios (one slice of each system per round). */
  median: number;
  min: number;
  max: number;
}

export interface LoadSummary extends LoadMeasured {
  vsGatewayWorker: RoundRatio;
  vsPlain: RoundRatio;
  goals: { overGatewayWorker: boolean; p99: boolean; overPlain?: boolean };
  /** The busiest generator process's CPU in the slices of each system, as a share of one core. */
  generatorCpu: Record<System, number>;
}

export type GatewayWorkerSummary = { skipped: string } | { eventLoop: string; loads: LoadSummary[] };

function roundRatio(a: EchoResult, b: EchoResult): RoundRatio {
  const ratios = a.sliceRates.map((rate, i) => rate / b.sliceRates[i]!);
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

const busiestGenerator = (result: EchoResult) => Math.max(0, ...Object.entries(result.cpu).filter(([label]) => label.startsWith('generator')).map(([, share]) => share));

export function summarizeGatewayWorker(measured: GatewayWorkerMeasured): GatewayWorkerSummary {
  if ('skipped' in measured) return measured;
  const loads = measured.loads.map((load): LoadSummary => {
    const { gwc, gatewayworker, plain } = load.systems;
    const vsGatewayWorker = roundRatio(gwc, gatewayworker);
    const vsPlain = roundRatio(gwc, plain);
    return {
      ...load,
      vsGatewayWorker,
      vsPlain,
      goals: {
        overGatewayWorker: vsGatewayWorker.median >= GATEWAYWORKER_GOALS.overGatewayWorker,
        p99: gwc.p99Ms <= gatewayworker.p99Ms,
        ...(load.plainGoal ? { overPlain: vsPlain.median >= GATEWAYWORKER_GOALS.overPlain } : {}),
      },
      generatorCpu: { gwc: busiestGenerator(gwc), gatewayworker: busiestGenerator(gatewayworker), plain: busiestGenerator(plain) },
    };
  });
  return { eventLoop: measured.eventLoop, loads };
}

const spread = (r: RoundRatio) => `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;

export function formatGatewayWorker(summary: GatewayWorkerSummary, rounds: number): string {
  if ('skipped' in summary) return `GatewayWorker echo: skipped, ${summary.skipped}`;
  const rows = [['load', 'GWC rt/s', 'GatewayWorker rt/s', 'plain rt/s', 'GWC p99', 'GatewayWorker p99', 'plain p99', 'GWC/GatewayWorker', 'GWC/plain']];
  for (const load of summary.loads) {
    const { gwc, gatewayworker, plain } = load.systems;
    rows.push([`${load.clients}×${load.inFlight}`, int(gwc.roundTripsPerSecond), int(gatewayworker.roundTripsPerSecond), int(plain.roundTripsPerSecond),
      ms(gwc.p99Ms), ms(gatewayworker.p99Ms), ms(plain.p99Ms), spread(load.vsGatewayWorker), spread(load.vsPlain)]);
  }
  const out = [`GatewayWorker echo: 64 B closed loop, ${rounds} rounds of one slice per system; GatewayWorker is 1 Gateway + 1 BusinessWorker ` +
    `(${summary.eventLoop} loop). Ratios: median of the rounds' ratios (min–max).`, ...table(rows), '', 'Goals (issue 22):'];
  for (const load of summary.loads) {
    const { gwc, gatewayworker } = load.systems;
    const goals = [
      `GWC >= ${GATEWAYWORKER_GOALS.overGatewayWorker}× GatewayWorker ${verdict(load.goals.overGatewayWorker)} (${load.vsGatewayWorker.median.toFixed(2)})`,
      `p99 <= GatewayWorker's ${verdict(load.goals.p99)} (${ms(gwc.p99Ms)} vs ${ms(gatewayworker.p99Ms)})`,
    ];
    if (load.goals.overPlain !== undefined) goals.push(`GWC >= ${GATEWAYWORKER_GOALS.overPlain}× plain ws ${verdict(load.goals.overPlain)} (${load.vsPlain.median.toFixed(2)})`);
    out.push(`  ${load.clients}×${load.inFlight}: ${goals.join('; ')}`);
  }
  out.push('', 'Load generator (busiest process, share of one core, in the slices of GWC / GatewayWorker / plain; the machine\'s busy CPU then, ' +
    'all cores, beside it: well above what the systems and the generators use means other load on the machine):');
  for (const load of summary.loads) {
    const cpu = load.generatorCpu;
    const machine = SYSTEMS.map((system) => pct(load.systems[system].machineCpu)).join(' / ');
    const saturated = Math.max(cpu.gwc, cpu.gatewayworker, cpu.plain) > GENERATOR_SATURATED;
    out.push(`  ${load.clients}×${load.inFlight}: ${load.generators} process(es), ${pct(cpu.gwc)} / ${pct(cpu.gatewayworker)} / ${pct(cpu.plain)} (machine ${machine})` +
      (saturated ? ` — SATURATED above ${pct(GENERATOR_SATURATED)}: give this load more with --gw-generators` : ''));
  }
  return out.join('\n');
}
