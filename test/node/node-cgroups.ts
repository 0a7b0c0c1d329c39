/**
 * The cgroups of a node: each kubelet gets a cgroup root of its own (its pods go under <root>/kubepods), made under
 * every cgroup v1 controller and the unified hierarchy before it starts, and removed after.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The cgroup v1 controllers (and the unified hierarchy) mounted here. */
function cgroupHierarchies(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return readdirSync(CGROUP_ROOT).map((name) => path.join(CGROUP_ROOT, name)).filter((dir) => existsSync(path.join(dir, 'cgroup.procs')));
}

/** The kubelet refuses a cgroup root that does not exist under every controller. */
export function createCgroupRoot(cgroupRoot: string): void {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = path.join(hierarchy, cgroupRoot);
    mkdirSync(dir, { recursive: true });
    // A new cpuset has no CPUs and no memory nodes until given its parent's.
    if (existsSync(path.join(dir, 'cpuset.cpus'))) {
      for (const file of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(path.join(dir, file), readFileSync(path.join(hierarchy, file)));
    }
  }
}

/** Removes `cgroupRoot` and everything under it from every controller, deepest first; those still in use stay. */
export function removeCgroupRoot(cgroupRoot: string): void {
  const remove = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const child = path.join(dir, entry);
      try {
        if (statSync(child).isDirectory()) remove(child);
      } catch {
        // gone meanwhile
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      // still in use: left, and the host snapshot says so
    }
  };
  for (const hierarchy of cgroupHierarchies()) {
    const dir = path.join(hierarchy, cgroupRoot);
    if (existsSync(dir)) remove(dir);
  }
}

/** Whether `pid` runs in a cgroup under `cgroupRoot` of any controller. */
export function inCgroupRoot(pid: number, cgroupRoot: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((line) => {
      const cgroup = line.split(':')[2] ?? '';
      return cgroup === cgroupRoot || cgroup.startsWith(`${cgroupRoot}/`);
    });
  } catch {
    return false;
  }
}
