/**
 * Runs every compiled test file (dist/test/**\/*.test.js) with node's test runner.
 * Arguments filter the files by substring of their path under the test folder, written with a leading slash:
 * `npm test -- process` runs the process-level tests only; `/node/` the files under node/, `node/` those and the
 * ones under multinode/. (Where the repository is checked out does not count.)
 * The files under node/, e2e/ and multinode/ run pods: for them the test cluster is brought up first (unless one is
 * running already, from `npm run testcluster -- up`) and taken down after, and the host must then be as it was
 * before. Files under multinode/ need three nodes; the others one, and run on the three when both are chosen (one
 * bring-up instead of two). Files under node-failure/ need three nodes too, and take them away for good (power cuts):
 * they run last, one file at a time, on the cluster the others leave.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeDir, runningPid, testclusterDir } from './control-plane/testcluster-state.js';
import { clusterNodes } from './node/cluster-nodes.js';
import { hostSnapshot, snapshotDifferences } from './node/host-snapshot.js';
import { BRIDGE } from './node/node-layout.js';

const testRoot = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const testcluster = path.join(testRoot, 'control-plane', 'testcluster.js');

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'bench' ? [] : findTests(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const files = findTests(testRoot)
  .filter((file) => filters.length === 0 || filters.some((filter) => `/${path.relative(testRoot, file)}`.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** A cold start builds the image and imports it; a stop waits for every process of the node to be gone. */
const NODE_UP_TIMEOUT_MS = 20 * 60_000;
const NODE_DOWN_TIMEOUT_MS = 5 * 60_000;
const runTestcluster = (args: string[], timeout: number) => spawnSync(process.execPath, [testcluster, ...args], { stdio: 'inherit', timeout });
/** Nodes the files under each folder need. */
const NODES_NEEDED: Record<string, number> = { node: 1, e2e: 1, multinode: 3, 'node-failure': 3 };
/** Files under this folder take nodes away for good (power cuts): they run after all the others, one at a time. */
const DISRUPTIVE = 'node-failure';
const isDisruptive = (file: string) => path.relative(testRoot, file).split(path.sep)[0] === DISRUPTIVE;
const nodesNeeded = Math.max(0, ...files.map((file) => NODES_NEEDED[path.relative(testRoot, file).split(path.sep)[0]!] ?? 0));
const running = runningPid() !== undefined;
if (nodesNeeded > 0 && running && clusterNodes(nodeDir).length < nodesNeeded) {
  console.error(`these tests need ${nodesNeeded} nodes and the running test cluster has ${clusterNodes(nodeDir).length}: \`npm run testcluster -- down\` first`);
  process.exit(1);
}
const bringUp = nodesNeeded > 0 && !running;
// A cluster whose daemon was killed (a machine stopped mid-run) leaves its bridge, cgroups and state behind: they go
// first, so that the host is compared with itself as it was without them.
if (bringUp && (existsSync(testclusterDir) || existsSync(`/sys/class/net/${BRIDGE}`))) {
  console.log('a test cluster that was never taken down left remains: taking them down first');
  const down = runTestcluster(['down'], NODE_DOWN_TIMEOUT_MS);
  if (down.status !== 0) process.exit(down.status || 1);
}
const before = bringUp ? hostSnapshot() : undefined;
if (bringUp) {
  const started = Date.now();
  const up = runTestcluster(['up', '--nodes', String(nodesNeeded)], NODE_UP_TIMEOUT_MS);
  if (up.status !== 0) {
    console.error(`the test cluster did not come up${up.error ? `: ${up.error.message}` : ''}; taking down what did`);
    runTestcluster(['down'], NODE_DOWN_TIMEOUT_MS);
    process.exit(up.status || 1);
  }
  console.log(`test cluster of ${nodesNeeded} node(s) up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// A failing test can leave a socket or a child open, and a test can hang: either would keep its file (and CI) waiting
// for ever. A test past its deadline fails by name, and a file's process still open after its tests fails the file.
const TEST_TIMEOUT_MS = 15 * 60_000;
const exitWhenDone = pathToFileURL(path.join(testRoot, 'harness', 'exit-when-done.js')).href;
let status = 0;
for (const [group, concurrency] of [[files.filter((file) => !isDisruptive(file)), 2], [files.filter(isDisruptive), 1]] as const) {
  if (group.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ['--import', exitWhenDone, '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', `--test-timeout=${TEST_TIMEOUT_MS}`, ...group],
    { stdio: 'inherit' },
  );
  status = status || (result.status ?? 1);
}

if (bringUp) {
  const started = Date.now();
  const down = runTestcluster(['down'], NODE_DOWN_TIMEOUT_MS);
  if (down.error) console.error(`the test cluster did not come down: ${down.error.message}`);
  console.log(`test cluster down in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const differences = snapshotDifferences(before!, hostSnapshot());
  if (down.status !== 0 || differences.length > 0) {
    console.error(`the test cluster did not leave the machine as it was:\n${differences.join('\n\n')}`);
    status = status || 1;
  } else {
    console.log(`the machine is as it was before the test cluster: ${Object.keys(before!).join(', ')}`);
  }
}
process.exit(status);
