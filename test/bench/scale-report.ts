/** The scale scenario's figures, GatewayCluster beside plain ws. */
import { int, kib, mean, ms, pct, table } from './report.js';
import type { ScaleConfig, ScaleResult, ScaleRun, StageResult } from './scale-scenario.js';

const accepts = (stage: StageResult) => `${int(mean(stage.acceptsPerSecond))} (${int(Math.min(...stage.acceptsPerSecond))}–${int(Math.max(...stage.acceptsPerSecond))})`;
const seconds = (s: number) => `${s.toFixed(2)} s`;
/** RSS per connection over the holders that settled, with their count; over all holders too when some did not. */
export function stageRss(stage: StageResult): string {
  const settled = stage.holders.filter((h) => h.settled).length;
  if (settled === stage.holders.length) return `${kib(stage.settledRssPerConnection)} (all ${settled} settled)`;
  const fromSettled = settled > 0 ? `${kib(stage.settledRssPerConnection)} from the ${settled} of ${stage.holders.length} settled` : `none of ${stage.holders.length} settled`;
  return `${fromSettled}; all: ${kib(stage.rssPerConnection)}`;
}
const cpu = (stage: StageResult) => `${pct(stage.cpu.holder)} / ${pct(stage.cpu.generator)} / ${pct(stage.cpu.machine)}`;

export function formatScale(result: ScaleResult, config: ScaleConfig): string {
  const { gwc, plain } = result;
  const rows = [['connections', 'GWC accepts/s per gateway (min–max)', 'plain accepts/s per process', 'GWC/plain', 'GWC RSS/connection', 'plain RSS/connection', 'CPU holder / generator / machine: GWC, plain']];
  gwc.stages.forEach((stage, i) => {
    const reference = plain.stages[i]!;
    rows.push([int(stage.connections), accepts(stage), accepts(reference), (mean(stage.acceptsPerSecond) / mean(reference.acceptsPerSecond)).toFixed(2),
      stageRss(stage), stageRss(reference), `${cpu(stage)}, ${cpu(reference)}`]);
  });
  const storm = (run: ScaleRun) => run.storm.failed ? `${int(run.storm.clients)} clients; NOT MEASURED: ${run.storm.failed.split('\n')[0]}` : `${int(run.storm.clients)} clients; holder up again after ${seconds(run.storm.holderBackSeconds)}, ` +
    `all clients back after ${seconds(run.storm.allBackSeconds)}; echo p99 on the others ${ms(run.storm.p99BeforeMs)} before, ${ms(run.storm.p99DuringMs)} during`;
  const out = [
    `Scale: ${int(config.connections)} connections over ${config.holders} gateways and ${config.workers} workers (GWC), and over ${config.holders} plain ws processes, ` +
      `each freshly started; one load-generator process per holder. Accepts/s: each holder's new clients of the stage over the time they took (mean over holders); ` +
      'RSS: the holders\' growth since before any client, per connection, over the holders whose RSS settled (a mark-compact seen, see IDLE_SETTLE) ' +
      `within ${Math.round(config.settleTimeoutMs / 1000)} s past the least watch, and over all holders when some did not (those may still hold the arrivals' garbage). ` +
      'CPU: a holder / a load generator / the machine (all ' +
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
  for (const [name, run] of [['GWC', gwc], ['plain', plain]] as const) {
    for (const stage of run.stages) {
      const unsettled = stage.holders.flatMap((h, i) => (h.settled ? [] : [`${i} (${h.majorGcs} mark-compacts after the stage, young generation ${(h.newSpace / 1048576).toFixed(0)} MiB)`]));
      if (unsettled.length > 0) out.push(`note: ${name} at ${int(stage.connections)}: holder(s) ${unsettled.join(', ')} did not settle (see IDLE_SETTLE)`);
    }
  }
  return out.join('\n');
}
