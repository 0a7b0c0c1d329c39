/**
 * The chaos soak (`npm run soak -- [options]`): 1 Register, 2 Gateways and 3 Workers as processes on
 * 127.0.<subnet>.x, steady load from many WebSocket clients while workers, gateways and the Register are killed
 * and restarted at random, and a slow-consumer flood part way. Prints a table, optionally writes it as JSON, and
 * exits 1 when a message was lost outside a gateway kill, a process exited unasked, or an echo came out of order.
 *
 *   --duration <s>   seconds of load and chaos (120)      --seed <n>      repeat a run's chaos (random by default)
 *   --clients <n>    load clients (200)                   --rate <n>      messages per second per client (5)
 *   --subnet <n>     third octet of 127.0.x.y (a free one) --out <file>   write the report as JSON
 *   --flood-mib <n>  MiB sent to the flood group (96)    --slow-clients <n>  clients that stop reading (6)
 *   --max-send-buffer <bytes>  gateways' limit (262144)   --keep-records  keep the handler records folder
 *   --chaos <kinds>  comma-separated subset of worker-sigkill, worker-sigterm, register-sigkill, gateway-sigterm,
 *                    gateway-sigkill (all)
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CHAOS_KINDS, type ChaosKind } from './chaos.js';
import { formatReport } from './report.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '200' },
    rate: { type: 'string', default: '5' },
    subnet: { type: 'string' },
    out: { type: 'string' },
    'flood-mib': { type: 'string', default: '96' },
    'slow-clients': { type: 'string', default: '6' },
    'max-send-buffer': { type: 'string', default: String(256 * 1024) },
    'keep-records': { type: 'boolean', default: false },
    chaos: { type: 'string', default: CHAOS_KINDS.join(',') },
  },
});

const number = (name: keyof typeof values): number => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`--${name}: not a number: ${String(values[name])}\n`);
    process.exit(2);
  }
  return value;
};

const chaosKinds = values.chaos!.split(',') as ChaosKind[];
const unknownKind = chaosKinds.find((kind) => !CHAOS_KINDS.includes(kind));
if (unknownKind !== undefined) {
  process.stderr.write(`--chaos: unknown kind ${unknownKind} (kinds: ${CHAOS_KINDS.join(', ')})\n`);
  process.exit(2);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const report = await runSoak({
  durationS: number('duration'),
  ...(values.seed !== undefined ? { seed: number('seed') } : {}),
  clients: number('clients'),
  rate: number('rate'),
  ...(values.subnet !== undefined ? { subnet: number('subnet') } : {}),
  maxSendBuffer: number('max-send-buffer'),
  floodAt: 0.4,
  floodMiB: number('flood-mib'),
  slowClients: number('slow-clients'),
  chaosKinds,
  keepRecords: values['keep-records'],
  log: (line) => process.stderr.write(`${line}\n`),
}).catch((error: unknown) => {
  process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
process.stdout.write(`\n${formatReport(report)}\n`);
if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
process.exit(report.failures.length > 0 ? 1 : 0);
