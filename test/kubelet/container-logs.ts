/**
 * Test-only: where the process kubelet writes each container's stdout and stderr
 * (`<workDir>/logs/<namespace>_<pod>_<container>.log`, appended across restarts with a marker line per start and
 * exit), and a helper to read the end of one when a test fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function containerLogPath(logsDir: string, namespace: string, pod: string, container: string): string {
  return path.join(logsDir, `${namespace}_${pod}_${container}.log`);
}

/** The last `lines` lines of a log file ('' when it does not exist). */
export function tailFile(file: string, lines = 50): string {
  if (!existsSync(file)) return '';
  const all = readFileSync(file, 'utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(-lines).join('\n');
}
