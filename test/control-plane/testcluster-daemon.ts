/**
 * Keeps the test cluster running in the background for `npm run testcluster -- up [--nodes N]`; SIGTERM takes it
 * down and leaves the machine as it was. Writes <dir>/ready (the kubeconfig path) once everything answers, or
 * <dir>/failed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestNode, stopTestNode } from '../node/test-node.js';
import { nodeDir } from './testcluster-state.js';

const [dir, nodes] = process.argv.slice(2);
if (!dir || !nodes) {
  console.error('usage: testcluster-daemon <dir> <nodes>');
  process.exit(2);
}

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

try {
  const cluster = await startTestNode(nodeDir, { nodes: Number(nodes), log });
  // The cluster's processes do not hold the event loop open (see BinaryProcess): this does, until SIGTERM.
  const keepAlive = setInterval(() => {}, 60_000);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    clearInterval(keepAlive);
    await stopTestNode(nodeDir, log);
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  writeFileSync(path.join(dir, 'timings.json'), JSON.stringify(cluster.timings));
  writeFileSync(path.join(dir, 'ready'), cluster.kubeconfigPath);
  log(`ready: KUBECONFIG=${cluster.kubeconfigPath}`);
} catch (error) {
  writeFileSync(path.join(dir, 'failed'), String((error as Error).message));
  log(`failed: ${(error as Error).message}`);
  process.exit(1);
}
