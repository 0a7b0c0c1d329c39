/** The processes of the machine, as /proc shows them: finding a node's, and killing them for good. */
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from '../harness/wait.js';

export function processIds(): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** A zombie is dead: only its parent's wait is missing. */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether one of `pid`'s arguments is `dir` or a path under it. */
export function namesFolder(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg === dir || arg.includes(`${dir}/`));
  } catch {
    return false;
  }
}

/** SIGKILLs whatever `find` returns until it returns nothing (a process may start another meanwhile). */
export async function killUntilNone(what: string, find: () => number[]): Promise<void> {
  await waitFor(what, () => {
    const pids = find();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return pids.length === 0;
  }, 20_000, 50);
}
