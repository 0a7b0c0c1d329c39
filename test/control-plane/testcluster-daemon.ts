/**
 * Keeps a test control plane running in the background for `npm run testcluster -- up`; SIGTERM stops it and
 * removes its data. Writes <dir>/ready (the kubeconfig path) once everything answers, or <dir>/failed.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startControlPlane } from './control-plane.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: testcluster-daemon <dir>');
  process.exit(2);
}

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

try {
  const controlPlane = await startControlPlane({ dir, log });
  // The control plane's processes do not hold the event loop open (see BinaryProcess): this does, until SIGTERM.
  const keepAlive = setInterval(() => {}, 60_000);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    clearInterval(keepAlive);
    await controlPlane.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  writeFileSync(path.join(dir, 'ready'), controlPlane.kubeconfigPath);
  log(`ready: KUBECONFIG=${controlPlane.kubeconfigPath}`);
} catch (error) {
  writeFileSync(path.join(dir, 'failed'), String((error as Error).message));
  log(`failed: ${(error as Error).message}`);
  process.exit(1);
}
