import { readFileSync } from 'node:fs';

/** The soft limit on open files of a process (this one by default), from /proc; undefined where there is no /proc. */
export function openFileLimit(pid: number | 'self' = 'self'): number | undefined {
  let limits: string;
  try {
    limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Infinity : Number(match[1]);
}
