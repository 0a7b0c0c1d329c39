/**
 * Runs every compiled test file (dist/test/**\/*.test.js) with node's test runner.
 * Arguments filter the files by substring: `npm test -- process` runs the process-level tests only.
 * The files under node/ and e2e/ run pods: for them the test node is brought up first (unless one is running
 * already, from `npm run testcluster -- up`) and taken down after, and the host must then be as it was before.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningPid } from './control-plane/testcluster-state.js';
import { hostSnapshot, snapshotDifferences } from './node/host-snapshot.js';

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
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** A cold start builds the image and imports it; a stop waits for every process of the node to be gone. */
const NODE_UP_TIMEOUT_MS = 20 * 60_000;
const NODE_DOWN_TIMEOUT_MS = 5 * 60_000;
const runTestcluster = (command: 'up' | 'down', timeout: number) => spawnSync(process.execPath, [testcluster, command], { stdio: 'inherit', timeout });
const needsNode = files.some((file) => /^(node|e2e)[/\\]/.test(path.relative(testRoot, file)));
const bringUp = needsNode && runningPid() === undefined;
const before = bringUp ? hostSnapshot() : undefined;
if (bringUp) {
  const started = Date.now();
  const up = runTestcluster('up', NODE_UP_TIMEOUT_MS);
  if (up.status !== 0) {
    console.error(`the test node did not come up${up.error ? `: ${up.error.message}` : ''}; taking down what did`);
    runTestcluster('down', NODE_DOWN_TIMEOUT_MS);
    process.exit(up.status || 1);
  }
  console.log(`test node up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// A failing test can leave a socket or a child open, and a test can hang: either would keep its file (and CI) waiting
// for ever. Each file's process exits once its tests and hooks are done, and a test past its deadline fails by name.
const TEST_TIMEOUT_MS = 15 * 60_000;
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-force-exit', `--test-timeout=${TEST_TIMEOUT_MS}`, ...files],
  { stdio: 'inherit' },
);
let status = result.status ?? 1;

if (bringUp) {
  const started = Date.now();
  const down = runTestcluster('down', NODE_DOWN_TIMEOUT_MS);
  if (down.error) console.error(`the test node did not come down: ${down.error.message}`);
  console.log(`test node down in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const differences = snapshotDifferences(before!, hostSnapshot());
  if (down.status !== 0 || differences.length > 0) {
    console.error(`the test node did not leave the machine as it was:\n${differences.join('\n\n')}`);
    status = status || 1;
  } else {
    console.log('the machine is as it was before the test node: interfaces, routes, rules, nftables, mounts, paths, cgroups');
  }
}
process.exit(status);
