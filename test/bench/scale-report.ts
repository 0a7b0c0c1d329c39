/** The scale scenario's figures, GatewayCluster beside plain ws. */
import { int, kib, mean, ms, pct, table } from './report.js';
import type { ScaleConfig, ScaleResult, ScaleRun, StageResult } from './scale-scenario.js';

const accepts = (stage: StageResult) => `${int(mean(stage.acceptsPerSecond))} (${int(Math.min(...stage.acceptsPerSecond))}–${int(Math.max(...stage.acceptsPerSecond))})`;
const seconds = (s: number) => `${s.toFixed(2)} s`;
const cpu = (stage: StageResult) => `${pct(stage.cpu.holder)} / ${pct(stage.cpu.generator)} / ${pct(stage.cpu.machine)}`;

export function formatScale(result: ScaleResult, config: ScaleConfig): string {
  const { gwc, plain } = result;
  const rows = [['connections', 'GWC accepts/s per gateway (min–max)', 'plain accepts/s per process', 'GWC/plain', 'GWC RSS/connection', 'plain RSS/connection', 'CPU holder / generator / machine: GWC, plain']];
  gwc.stages.forEach((stage, i) => {
    const reference = plain.stages[i]!;
    rows.push([int(stage.connections), accepts(stage), accepts(reference), (mean(stage.acceptsPerSecond) / mean(reference.acceptsPerSecond)).toFixed(2),
      kib(stage.rssPerConnection), kib(reference.rssPerConnection), `${cpu(stage)}, ${cpu(reference)}`]);
  });
  const storm = (run: ScaleRun) => `${int(run.storm.clients)} clients; holder up again after ${seconds(run.storm.holderBackSeconds)}, ` +
    `all clients back after ${seconds(run.storm.allBackSeconds)}; echo p99 on the others ${ms(run.storm.p99BeforeMs)} before, ${ms(run.storm.p99DuringMs)} during`;
  const out = [
    `Scale: ${int(config.connections)} connections over ${config.holders} gateways and ${config.workers} workers (GWC), and over ${config.holders} plain ws processes, ` +
      `each freshly started; one load-generator process per holder. Accepts/s: each holder's new clients of the stage over the time they took (mean over holders); ` +
      'RSS: the holders\' growth since before any client, per connection, settled. CPU: a holder / a load generator / the machine (all ' +
      'cores) while the clients arrived, shares of one core: a generator near 100%, or generators using more than the holders of a ' +
      'machine near all its cores, mean the rate is partly the generators\'.',
    ...table(rows),
    '',
    `sendToAll of ${config.size} B to all: GWC first delivery ${ms(gwc.broadcast.firstMs)}, last ${ms(gwc.broadcast.lastMs)}; ` +
      `plain first ${ms(plain.broadcast.firstMs)}, last ${ms(plain.broadcast.lastMs)}`,
    `Reconnect storm (holder 0 killed and started again; its clients reconnect with jittered backoff; ${config.probeClients} probe clients × 1 in flight on each other holder):`,
    `  GWC:   ${storm(gwc)}`,
    `  plain: ${storm(plain)}`,
  ];
  if (![...gwc.stages, ...plain.stages].every((stage) => stage.settled)) out.push('note: RSS did not settle at every stage (see IDLE_SETTLE)');
  return out.join('\n');
}
