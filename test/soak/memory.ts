import { readFileSync } from 'node:fs';

export interface Sampled {
  label: string;
  pid: number;
  alive: boolean;
}

const MIB = 1024 * 1024;

/** VmRSS and VmHWM (the process's peak RSS so far) of a live process, in bytes; undefined once it is gone. */
export function readProcMemory(pid: number): { rss: number; hwm: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/**
 * Samples the RSS of every live process every `intervalMs` and keeps the peak per process name (gateway0 across
 * its restarts) overall and per phase; VmHWM read just before a kill or at the end catches peaks between samples.
 */
export class MemorySampler {
  phase = 'before-flood';
  /** Peak bytes per process name. */
  readonly peak = new Map<string, number>();
  /** Peak bytes per phase, per process name (from the periodic samples only). */
  readonly peakByPhase = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: () => Sampled[]) {}

  start(intervalMs = 500): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    for (const process of this.processes()) {
      if (!process.alive) continue;
      const memory = readProcMemory(process.pid);
      if (!memory) continue;
      this.raise(this.peak, process.label, memory.rss);
      if (!this.peakByPhase.has(this.phase)) this.peakByPhase.set(this.phase, new Map());
      this.raise(this.peakByPhase.get(this.phase)!, process.label, memory.rss);
    }
  }

  /** Takes the process's own high-water mark: call just before it is killed, and at the end. */
  recordHighWater(process: Sampled): void {
    const memory = process.alive ? readProcMemory(process.pid) : undefined;
    if (memory) this.raise(this.peak, process.label, memory.hwm);
  }

  peakMiB(): Record<string, number> {
    return toMiB(this.peak);
  }

  phasePeakMiB(phase: string): Record<string, number> {
    return toMiB(this.peakByPhase.get(phase) ?? new Map());
  }

  private raise(map: Map<string, number>, label: string, bytes: number): void {
    if (bytes > (map.get(label) ?? 0)) map.set(label, bytes);
  }
}

function toMiB(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)).map(([label, bytes]) => [label, Math.round((bytes / MIB) * 10) / 10]));
}
