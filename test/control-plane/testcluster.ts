/**
 * npm run testcluster -- up [--nodes N]   starts the test cluster (test/node) of N nodes (1 by default) in the
 *                                         background; last line: KUBECONFIG=<path>
 * npm run testcluster -- down             takes it down and leaves the machine as it was
 * npm run testcluster -- status           says whether one is running, and its nodes
 * The same code the tests use; state lives under ${GWC_CACHE_DIR:-~/.cache/gateway-cluster}/testcluster.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { projectImage } from '../image/project-image.js';
import { clusterNodes } from '../node/cluster-nodes.js';
import { clusterLayout } from '../node/node-layout.js';
import { stopTestNode } from '../node/test-node.js';
import { ensureBinaries } from './binaries.js';
import { nodeDir, pidFile, runningPid, testclusterDir } from './testcluster-state.js';

const stateDir = testclusterDir;
const daemonScript = fileURLToPath(new URL('./testcluster-daemon.js', import.meta.url));
const UP_TIMEOUT_MS = 300_000;

function describeNodes(): string {
  return clusterNodes(nodeDir).map((node) => `${node.name} (${node.zone}, ${node.ip}, pods ${node.podSubnet})`).join(', ');
}

async function up(nodes: number): Promise<void> {
  clusterLayout(nodes);
  if (runningPid()) {
    const running = clusterNodes(nodeDir).length;
    if (running !== nodes) throw new Error(`a test cluster of ${running} node(s) is running: \`npm run testcluster -- down\` first`);
    console.log(`already running: ${describeNodes()}\nKUBECONFIG=${readFileSync(path.join(stateDir, 'ready'), 'utf8')}`);
    return;
  }
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  // Built here, in the foreground, so their progress is visible.
  ensureBinaries();
  projectImage();
  const out = openSync(path.join(stateDir, 'daemon.log'), 'a');
  const daemon = spawn(process.execPath, [daemonScript, stateDir, String(nodes)], { detached: true, stdio: ['ignore', out, out] });
  writeFileSync(pidFile, String(daemon.pid));
  daemon.unref();
  const readyFile = path.join(stateDir, 'ready');
  const failedFile = path.join(stateDir, 'failed');
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (!existsSync(readyFile)) {
    if (existsSync(failedFile)) throw new Error(readFileSync(failedFile, 'utf8'));
    if (!runningPid()) throw new Error(`the daemon exited; see ${path.join(stateDir, 'daemon.log')}`);
    if (Date.now() > deadline) throw new Error(`not ready after ${UP_TIMEOUT_MS / 1000} s; see ${path.join(stateDir, 'daemon.log')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`nodes: ${describeNodes()}`);
  console.log(`KUBECONFIG=${readFileSync(readyFile, 'utf8')}`);
}

async function down(): Promise<void> {
  const pid = runningPid();
  if (pid) {
    process.kill(pid, 'SIGTERM');
    await waitFor('the test cluster to stop', () => runningPid() === undefined, 120_000, 100);
  }
  // Also when the daemon died: whatever it left goes.
  await stopTestNode(nodeDir);
  rmSync(stateDir, { recursive: true, force: true });
  console.log(pid ? 'stopped' : 'not running');
}

const usage = 'usage: npm run testcluster -- up [--nodes N] | down | status';
try {
  let parsed;
  try {
    parsed = parseArgs({ options: { nodes: { type: 'string', default: '1' } }, allowPositionals: true });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${usage}`);
  }
  const { positionals, values } = parsed;
  const [command] = positionals;
  if (command === 'up') {
    if (!/^\d+$/.test(values.nodes)) throw new Error(`--nodes wants a number, got ${JSON.stringify(values.nodes)}\n${usage}`);
    await up(Number(values.nodes));
  } else if (command === 'down') await down();
  else if (command === 'status') {
    console.log(runningPid() ? `running: ${describeNodes()}\nKUBECONFIG=${readFileSync(path.join(stateDir, 'ready'), 'utf8')}` : 'not running');
  } else {
    console.error(usage);
    process.exit(2);
  }
} catch (error) {
  console.error(`testcluster: ${(error as Error).message}`);
  process.exit(1);
}
