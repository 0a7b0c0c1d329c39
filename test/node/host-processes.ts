/** The processes of the machine, as /proc shows them: finding a node's, and killing them for good. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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

/** The network namespace of a process (`net:[inode]`), or undefined once it is gone. */
export function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** The host's network namespace: the tests and the control plane run in it, every node and pod in one of its own. */
export const HOST_NETNS = netnsOf(process.pid);

/** The program a process runs, or undefined once it is gone. */
export function programOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is one of the cluster's processes that names `dir`: one that runs inside a node (its own network
 * namespace), one of the cluster's own programs from `programsDir`, or nsenter or unshare on its way into a node. A shell or a
 * `tail` on the host that only mentions the folder is not.
 */
export function clusterProcessNaming(pid: number, dir: string, programsDir?: string): boolean {
  if (!namesFolder(pid, dir)) return false;
  const netns = netnsOf(pid);
  const program = programOf(pid) ?? '';
  return (netns !== undefined && netns !== HOST_NETNS) || (programsDir !== undefined && program.startsWith(`${programsDir}/`)) || ['/usr/bin/nsenter', '/usr/bin/unshare'].includes(program);
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
