/**
 * Keeps the test node running in the background for `npm run testcluster -- up`; SIGTERM takes it down and leaves
 * the machine as it was. Writes <dir>/ready (the kubeconfig path) once everything answers, or <dir>/failed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestNode, stopTestNode } from '../node/test-node.js';
import { nodeDir } from './testcluster-state.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: testcluster-daemon <dir>');
  process.exit(2);
}

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

try {
  const node = await startTestNode(nodeDir, log);
  // The node's processes do not hold the event loop open (see BinaryProcess): this does, until SIGTERM.
  const keepAlive = setInterval(() => {}, 60_000);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    clearInterval(keepAlive);
    await stopTestNode(nodeDir, node);
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  writeFileSync(path.join(dir, 'timings.json'), JSON.stringify(node.timings));
  writeFileSync(path.join(dir, 'ready'), node.kubeconfigPath);
  log(`ready: KUBECONFIG=${node.kubeconfigPath}`);
} catch (error) {
  writeFileSync(path.join(dir, 'failed'), String((error as Error).message));
  log(`failed: ${(error as Error).message}`);
  process.exit(1);
}
