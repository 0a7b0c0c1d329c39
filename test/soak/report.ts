import type { LogEvent } from '../../runtime/observability/log-events.js';
import type { LogRecord, RoleProcess } from '../harness/role-process.js';
import type { Chaos, ChaosAction, ChaosKind, UnexpectedExit } from './chaos.js';
import type { FloodResult } from './flood.js';
import type { Ledger } from './ledger.js';
import type { ConnectionEnd, LoadPool } from './load-clients.js';
import type { MemorySampler } from './memory.js';
import { percentiles, tallyMessages, type Percentiles } from './tally.js';

export interface SoakConfig {
  seed: number;
  durationS: number;
  clients: number;
  rate: number;
  subnet: number;
  maxSendBuffer: number;
}

export interface SoakReport {
  config: SoakConfig;
  elapsedS: number;
  /** Client messages written to a gateway connection (a write that failed is not counted). */
  sent: number;
  /** Sent messages whose echo came back. */
  echoed: number;
  /** Sent messages a handler ran for at least once (the handler records are the truth). */
  handled: number;
  handlerRecords: number;
  duplicates: {
    /** Messages handled more than once. */
    messages: number;
    /** Of those, how many had every repeat flagged ctx.redelivery. */
    flaggedRedelivery: number;
    unflagged: number;
  };
  lost: {
    total: number;
    /** Sent on a connection that ended because its gateway was SIGKILLed. */
    withGatewaySigkill: number;
    /** Sent on a connection that ended because its gateway was SIGTERMed (in flight during the drain). */
    withGatewaySigterm: number;
    /** Sent on a connection the gateway closed as too slow (1008): dropped by the gateway, never accepted. */
    withSlowClose: number;
    /** Everything else: must be zero. */
    otherwise: number;
    /** The "otherwise" ones by how their connection ended. */
    otherwiseByConnectionEnd: Record<string, number>;
    /** The "otherwise" ones by the chaos action that came just after they were sent (within 3 s). */
    otherwiseByNextChaos: Record<string, number>;
    /** A few of the "otherwise" ones, for digging into the logs. */
    otherwiseSamples: Array<{ message: string; sentAtMs: number; connectionEnd: ConnectionEnd }>;
  };
  outOfOrderEchoes: number;
  duplicateEchoes: number;
  /** Echoes that reached another client than the one that sent the message. */
  misroutedEchoes: number;
  /** Sanity checks: both should be zero. */
  echoedNotRecorded: number;
  handledNotSent: number;
  /** Handler messageIds shared by two different client messages (a handler deduplicating by messageId would drop one). */
  messageIdCollisions: number;
  reconnect: Percentiles;
  connectionEnds: Record<string, number>;
  peakRssMiB: Record<string, number>;
  flood: (FloodResult & { gatewayPeakBeforeMiB: Record<string, number>; gatewayPeakDuringMiB: Record<string, number> }) | undefined;
  chaos: { counts: Record<ChaosKind, number>; actions: ChaosAction[]; anomalies: string[] };
  unexpectedExits: UnexpectedExit[];
  /** Events the gateways say they redelivered (the `redelivered` of their "worker disconnected" log lines). */
  gatewayRedelivered: number;
  /** Warnings and errors the processes logged, "level msg" → count. */
  processLogs: Record<string, number>;
  /** Whether every outstanding message was echoed and the handler records stopped growing before the deadline. */
  settled: boolean;
  failures: string[];
}

export interface ReportInputs {
  config: SoakConfig;
  startedAt: number;
  pool: LoadPool;
  ledger: Ledger;
  chaos: Chaos;
  sampler: MemorySampler;
  flood: FloodResult | undefined;
  processes: RoleProcess[];
  settled: boolean;
}

/** A chaos action at most this long after a message was sent may be what lost it. */
const CHAOS_BLAME_WINDOW_MS = 3000;

export function buildReport(inputs: ReportInputs): SoakReport {
  const { pool, ledger, chaos, sampler, startedAt } = inputs;
  const otherwiseByConnectionEnd: Record<string, number> = {};
  const otherwiseByNextChaos: Record<string, number> = {};
  const otherwiseSamples: SoakReport['lost']['otherwiseSamples'] = [];
  const expected = new Set<ConnectionEnd>(['gateway-sigkill', 'gateway-sigterm', 'slow-1008']);
  const tally = tallyMessages(pool, ledger, ({ key, end, sentAt }) => {
    if (expected.has(end)) return;
    bump(otherwiseByConnectionEnd, end);
    const sentAtMs = sentAt - startedAt;
    const next = chaos.actions.find((action) => action.atMs >= sentAtMs - 100 && action.atMs <= sentAtMs + CHAOS_BLAME_WINDOW_MS);
    bump(otherwiseByNextChaos, next ? next.kind : 'none');
    if (otherwiseSamples.length < 10) otherwiseSamples.push({ message: key, sentAtMs, connectionEnd: end });
  });
  const { sent, echoed, handled, echoedNotRecorded, handledNotSent, lostByEnd } = tally;
  const lost = {
    total: tally.lost,
    withGatewaySigkill: lostByEnd['gateway-sigkill'] ?? 0,
    withGatewaySigterm: lostByEnd['gateway-sigterm'] ?? 0,
    withSlowClose: lostByEnd['slow-1008'] ?? 0,
    otherwise: Object.values(otherwiseByConnectionEnd).reduce((sum, count) => sum + count, 0),
  };

  let duplicateMessages = 0;
  let flagged = 0;
  for (const entry of ledger.handled.values()) {
    if (entry.count < 2) continue;
    duplicateMessages++;
    if (entry.redeliveries >= entry.count - 1) flagged++;
  }

  const sum = (pick: (client: LoadPool['clients'][number]) => number) => pool.clients.reduce((total, client) => total + pick(client), 0);
  const connectionEnds: Record<string, number> = {};
  for (const connection of pool.connections) bump(connectionEnds, connection.end);
  const gatewayPeak = (phase: string) => Object.fromEntries(Object.entries(sampler.phasePeakMiB(phase)).filter(([label]) => label.startsWith('gateway')));

  const report: SoakReport = {
    config: inputs.config,
    elapsedS: Math.round((Date.now() - startedAt) / 100) / 10,
    sent,
    echoed,
    handled,
    handlerRecords: ledger.records,
    duplicates: { messages: duplicateMessages, flaggedRedelivery: flagged, unflagged: duplicateMessages - flagged },
    lost: { ...lost, otherwiseByConnectionEnd, otherwiseByNextChaos, otherwiseSamples },
    outOfOrderEchoes: sum((client) => client.outOfOrder),
    duplicateEchoes: sum((client) => client.duplicateEchoes),
    misroutedEchoes: sum((client) => client.foreignEchoes),
    echoedNotRecorded,
    handledNotSent,
    messageIdCollisions: ledger.messageIdCollisions,
    reconnect: percentiles(pool.reconnectMs),
    connectionEnds,
    peakRssMiB: sampler.peakMiB(),
    flood: inputs.flood && { ...inputs.flood, gatewayPeakBeforeMiB: gatewayPeak('before-flood'), gatewayPeakDuringMiB: gatewayPeak('flood') },
    chaos: { counts: chaos.countByKind(), actions: chaos.actions, anomalies: chaos.anomalies },
    unexpectedExits: chaos.unexpectedExits,
    gatewayRedelivered: sumEventField(inputs.processes, 'worker-disconnected', 'redelivered'),
    processLogs: countWarnings(inputs.processes),
    settled: inputs.settled,
    failures: [],
  };
  report.failures = failuresOf(report);
  return report;
}

/** What makes the soak fail (exit non-zero). */
function failuresOf(report: SoakReport): string[] {
  const failures: string[] = [];
  if (report.lost.otherwise > 0) failures.push(`${report.lost.otherwise} messages lost outside gateway kills`);
  if (report.unexpectedExits.length > 0) failures.push(`${report.unexpectedExits.length} unexpected process exits`);
  if (report.outOfOrderEchoes > 0) failures.push(`${report.outOfOrderEchoes} echoes out of order`);
  return failures;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function sumEventField(processes: RoleProcess[], event: LogEvent, field: string): number {
  let sum = 0;
  for (const process of processes) for (const record of process.events(event)) if (typeof record[field] === 'number') sum += record[field];
  return sum;
}

function countWarnings(processes: RoleProcess[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const notable = (record: LogRecord) => record.level === 'warn' || record.level === 'error' || record.level === 'raw';
  for (const process of processes) for (const record of process.logs) if (notable(record)) bump(counts, `${record.level} ${record.msg}`);
  return counts;
}

const entries = (counts: Record<string, number>) =>
  Object.entries(counts).length === 0 ? 'none' : Object.entries(counts).map(([key, value]) => `${key} ${value}`).join(', ');

/** The report as a readable table. */
export function formatReport(report: SoakReport): string {
  const { lost, duplicates, reconnect, flood } = report;
  const rows: Array<[string, string]> = [
    ['seed', String(report.config.seed)],
    ['run', `${report.elapsedS} s (${report.config.durationS} s of load + chaos), ${report.config.clients} clients × ${report.config.rate} msg/s`],
    ['sent', String(report.sent)],
    ['handled', `${report.handled} (${report.handlerRecords} handler runs)`],
    ['echoed', String(report.echoed)],
    ['lost', String(lost.total)],
    ['  with a gateway SIGKILL', String(lost.withGatewaySigkill)],
    ['  with a gateway SIGTERM', String(lost.withGatewaySigterm)],
    ['  closed as slow (1008)', String(lost.withSlowClose)],
    ['  otherwise (must be 0)', `${lost.otherwise}${lost.otherwise ? `  by connection end: ${entries(lost.otherwiseByConnectionEnd)}; by next chaos action: ${entries(lost.otherwiseByNextChaos)}` : ''}`],
    ['duplicates', `${duplicates.messages} (${duplicates.flaggedRedelivery} flagged redelivery, ${duplicates.unflagged} not)`],
    ['redelivered by gateways', String(report.gatewayRedelivered)],
    ['out-of-order echoes', String(report.outOfOrderEchoes)],
    ['duplicate / misrouted echoes', `${report.duplicateEchoes} / ${report.misroutedEchoes}`],
    ['sanity: echoed not recorded / recorded not sent', `${report.echoedNotRecorded} / ${report.handledNotSent}`],
    ['messageId collisions', String(report.messageIdCollisions)],
    ['reconnects', `${reconnect.count}: p50 ${reconnect.p50Ms} ms, p99 ${reconnect.p99Ms} ms, max ${reconnect.maxMs} ms`],
    ['connection ends', entries(report.connectionEnds)],
    ['peak RSS (MiB)', entries(report.peakRssMiB)],
  ];
  if (flood) {
    rows.push(
      ['flood', `${(flood.bytesPerRecipient / 1048576).toFixed(1)} MiB to a group of ${flood.slowClients} slow clients and a reader, ${flood.durationMs} ms`],
      ['  reader received', `${(flood.readerBytes / 1048576).toFixed(1)} MiB, ${flood.readerStayed ? 'stayed connected' : 'CLOSED'}`],
      ['  1008 closes seen / logged', `${flood.closes1008} / ${flood.gatewaySlowCloses}${Object.keys(flood.otherEnds).length ? `; other ends: ${entries(flood.otherEnds)}` : ''}`],
      ['  gateway peak RSS before', entries(flood.gatewayPeakBeforeMiB)],
      ['  gateway peak RSS during', entries(flood.gatewayPeakDuringMiB)],
    );
  }
  rows.push(
    ['chaos actions', entries(report.chaos.counts)],
    ['chaos anomalies', report.chaos.anomalies.length ? report.chaos.anomalies.join('; ') : 'none'],
    ['unexpected exits', report.unexpectedExits.length ? report.unexpectedExits.map((e) => `${e.process} ${JSON.stringify(e.exit)}`).join('; ') : 'none'],
    ['process warnings/errors', entries(report.processLogs)],
    ['settled at the end', report.settled ? 'yes' : 'NO (outstanding messages given up)'],
    ['verdict', report.failures.length ? `FAIL: ${report.failures.join('; ')}` : 'pass'],
  );
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
