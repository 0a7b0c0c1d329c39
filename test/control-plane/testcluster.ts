/**
 * npm run testcluster -- up     starts the test node (test/node) in the background; last line: KUBECONFIG=<path>
 * npm run testcluster -- down   takes it down and leaves the machine as it was
 * npm run testcluster -- status says whether one is running
 * The same code the tests use; state lives under ${GWC_CACHE_DIR:-~/.cache/gateway-cluster}/testcluster.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../harness/wait.js';
import { projectImage } from '../image/project-image.js';
import { stopTestNode } from '../node/test-node.js';
import { ensureBinaries } from './binaries.js';
import { nodeDir, pidFile, runningPid, testclusterDir } from './testcluster-state.js';

const stateDir = testclusterDir;
const daemonScript = fileURLToPath(new URL('./testcluster-daemon.js', import.meta.url));

async function up(): Promise<void> {
  if (runningPid()) {
    console.log(`already running; KUBECONFIG=${readFileSync(path.join(stateDir, 'ready'), 'utf8')}`);
    return;
  }
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  // Built here, in the foreground, so their progress is visible.
  ensureBinaries();
  projectImage();
  const out = openSync(path.join(stateDir, 'daemon.log'), 'a');
  const daemon = spawn(process.execPath, [daemonScript, stateDir], { detached: true, stdio: ['ignore', out, out] });
  writeFileSync(pidFile, String(daemon.pid));
  daemon.unref();
  const readyFile = path.join(stateDir, 'ready');
  const failedFile = path.join(stateDir, 'failed');
  const deadline = Date.now() + 300_000;
  while (!existsSync(readyFile)) {
    if (existsSync(failedFile)) throw new Error(readFileSync(failedFile, 'utf8'));
    if (!runningPid()) throw new Error(`the daemon exited; see ${path.join(stateDir, 'daemon.log')}`);
    if (Date.now() > deadline) throw new Error(`not ready after 300 s; see ${path.join(stateDir, 'daemon.log')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`KUBECONFIG=${readFileSync(readyFile, 'utf8')}`);
}

async function down(): Promise<void> {
  const pid = runningPid();
  if (pid) {
    process.kill(pid, 'SIGTERM');
    await waitFor('the test node to stop', () => runningPid() === undefined, 120_000, 100);
  }
  // Also when the daemon died: whatever it left goes.
  await stopTestNode(nodeDir);
  rmSync(stateDir, { recursive: true, force: true });
  console.log(pid ? 'stopped' : 'not running');
}

const command = process.argv[2];
try {
  if (command === 'up') await up();
  else if (command === 'down') await down();
  else if (command === 'status') console.log(runningPid() ? `running; KUBECONFIG=${readFileSync(path.join(stateDir, 'ready'), 'utf8')}` : 'not running');
  else {
    console.error('usage: npm run testcluster -- up|down|status');
    process.exit(2);
  }
} catch (error) {
  console.error(`testcluster ${command}: ${(error as Error).message}`);
  process.exit(1);
}
