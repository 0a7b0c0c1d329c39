/**
 * Records GatewayWorker's own answers to the GatewayClient scenario (gatewayclient-scenario.ts) into
 * test/fixtures/gatewayworker-answers.json, which test/process/gatewayworker-compat.test.ts compares ours with.
 * Runs the reference deployment in shared/anchors/gatewayworker (GatewayWorker v4.0.0 on Workerman, PHP from Debian):
 *
 *   npm run build && node dist/test/harness/record-gatewayworker.js
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGatewayClientScenario } from './gatewayclient-scenario.js';
import { gatewayClientDir } from './php-gatewayclient.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const GATEWAYWORKER_ANSWERS = path.join(repoRoot, 'test', 'fixtures', 'gatewayworker-answers.json');

async function record(): Promise<void> {
  const anchor = path.join(path.dirname(path.dirname(gatewayClientDir())), 'anchors', 'gatewayworker');
  const secretKey = 'anchor-compat-secret-0123';
  const env = {
    ...process.env,
    GW_SECRET: secretKey,
    GW_REGISTER: '127.0.61.101:1236',
    GW_LISTEN: 'websocket://127.0.61.101:7372',
    GW_START_PORT: '23061',
    GW_ANCHOR_DIR: '/tmp/gwc-compat-anchor',
  };
  execFileSync(path.join(anchor, 'start.sh'), { env, stdio: 'inherit' });
  try {
    const transcript = await runGatewayClientScenario({ registerAddress: env.GW_REGISTER, secretKey, wsUrl: 'ws://127.0.61.101:7372/' });
    const php = execFileSync('php', ['-r', 'echo PHP_VERSION;']).toString();
    const recorded = { recordedFrom: `GatewayWorker v4.0.0 (Workerman v5.2.2), GatewayClient v3.1.1, PHP ${php}`, ...transcript };
    writeFileSync(GATEWAYWORKER_ANSWERS, JSON.stringify(recorded, null, 2) + '\n');
    console.log(`recorded ${transcript.answers.length} answers into ${GATEWAYWORKER_ANSWERS}`);
  } finally {
    execFileSync(path.join(anchor, 'stop.sh'), { env, stdio: 'inherit' });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await record();
