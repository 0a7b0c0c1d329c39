import type { RoleProcess } from '../harness/role-process.js';
import type { TestCluster } from '../harness/test-cluster.js';
import type { GatewayFault } from './load-clients.js';
import type { Prng } from './prng.js';

export type ChaosKind = 'worker-sigkill' | 'worker-sigterm' | 'register-sigkill' | 'gateway-sigterm' | 'gateway-sigkill';
type Role = 'register' | 'gateway' | 'worker';

const KINDS: Record<ChaosKind, { role: Role; signal: 'SIGKILL' | 'SIGTERM' }> = {
  'worker-sigkill': { role: 'worker', signal: 'SIGKILL' },
  'worker-sigterm': { role: 'worker', signal: 'SIGTERM' },
  'register-sigkill': { role: 'register', signal: 'SIGKILL' },
  'gateway-sigterm': { role: 'gateway', signal: 'SIGTERM' },
  'gateway-sigkill': { role: 'gateway', signal: 'SIGKILL' },
};
export const CHAOS_KINDS = Object.keys(KINDS) as ChaosKind[];

/** A place in the cluster a process runs in (the process itself changes at each restart). */
interface Slot {
  role: Role;
  index: number;
  label: string;
}

export interface ChaosAction {
  /** ms since the soak started. */
  atMs: number;
  kind: ChaosKind;
  target: string;
  restartDelayMs: number;
  /** Signal sent → process gone. */
  stopMs?: number;
  /** Signal sent → the new process logged "ready". */
  downMs?: number;
  exit?: { code: number | null; signal: string | null };
}

export interface UnexpectedExit {
  atMs: number;
  process: string;
  exit: { code: number | null; signal: string | null };
  stderr: string[];
}

export interface ChaosOptions {
  rng: Prng;
  /** Pause between two actions, drawn from [min, max] ms. */
  intervalMs: [number, number];
  /** Pause between a process's exit and its restart, drawn from [min, max] ms. */
  restartDelayMs: [number, number];
  /** The kinds of action to draw from (default: all). */
  kinds?: ChaosKind[];
  startedAt: number;
  log(line: string): void;
  /** Called just before a process is signalled (to read its peak memory). */
  beforeKill(process: RoleProcess): void;
}

function shuffle<T>(items: readonly T[], rng: Prng): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every few seconds one action on a random process, each restarted after a short random pause: SIGKILL or
 * SIGTERM a worker (never the last one running), SIGKILL the Register, SIGTERM or SIGKILL a gateway (one at a
 * time); every kind in turn, in a random order. Any process exiting that the chaos did not signal is an
 * unexpected exit: recorded, and restarted.
 */
export class Chaos {
  readonly actions: ChaosAction[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  /** Things that went wrong in the chaos itself: a graceful stop that needed SIGKILL, a restart never ready. */
  readonly anomalies: string[] = [];
  private readonly slots: Slot[];
  private readonly down = new Map<string, 'SIGKILL' | 'SIGTERM'>();
  private readonly signalled = new Set<RoleProcess>();
  private readonly running = new Set<Promise<void>>();
  private paused = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private bag: ChaosKind[] = [];

  constructor(
    private readonly cluster: TestCluster,
    private readonly options: ChaosOptions,
  ) {
    const range = (count = 1) => Array.from({ length: count }, (_, index) => index);
    this.slots = [
      { role: 'register', index: 0, label: 'register' },
      ...range(cluster.layout.gateways).map((index) => ({ role: 'gateway' as const, index, label: `gateway${index}` })),
      ...range(cluster.layout.workers).map((index) => ({ role: 'worker' as const, index, label: `worker${index}` })),
    ];
  }

  start(): void {
    this.loop = this.run();
  }

  /** What is being done to gateway `index` now: from its signal until its replacement is ready. */
  gatewayFault(index: number): GatewayFault {
    const signal = this.down.get(`gateway${index}`);
    return signal === undefined ? undefined : signal === 'SIGKILL' ? 'sigkill' : 'sigterm';
  }

  /** No new actions; resolves once those under way have restarted their process. */
  async pause(): Promise<void> {
    this.paused = true;
    await Promise.all(this.running);
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pauseTimer);
    this.wake?.();
    await this.loop;
    await Promise.all(this.running);
  }

  /** Records (and restarts) every process that exited without being signalled by the chaos. */
  checkExits(restart = true): void {
    for (const slot of this.slots) {
      const process = this.processIn(slot) as RoleProcess | undefined;
      if (!process || process.alive || this.signalled.has(process)) continue;
      this.signalled.add(process);
      const exit = { code: process.exit!.code, signal: process.exit!.signal };
      this.unexpectedExits.push({ atMs: this.now(), process: slot.label, exit, stderr: process.stderr.slice(-10) });
      this.options.log(`UNEXPECTED EXIT of ${slot.label}: ${JSON.stringify(exit)} ${process.stderr.slice(-3).join(' | ')}`);
      if (restart) this.track(this.restart(slot));
    }
  }

  countByKind(): Record<ChaosKind, number> {
    const counts = Object.fromEntries(CHAOS_KINDS.map((kind) => [kind, 0])) as Record<ChaosKind, number>;
    for (const action of this.actions) counts[action.kind]++;
    return counts;
  }

  /** Whether each kind this chaos draws from has been done at least once. */
  everyKindDone(): boolean {
    const counts = this.countByKind();
    return (this.options.kinds ?? CHAOS_KINDS).every((kind) => counts[kind] > 0);
  }

  private async run(): Promise<void> {
    const { rng, intervalMs } = this.options;
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.pauseTimer = setTimeout(resolve, rng.between(intervalMs[0], intervalMs[1]));
      });
      if (this.stopped || this.paused) continue;
      const next = this.nextFromBag();
      if (next) this.track(this.act(next.kind, next.slot));
    }
  }

  /**
   * The kinds come from a shuffled bag holding each once, refilled when empty, so even a short run sees every
   * kind: the first one in the bag that can hit something now is taken out, and the others wait their turn.
   */
  private nextFromBag(): { kind: ChaosKind; slot: Slot } | undefined {
    const { rng } = this.options;
    if (this.bag.length === 0) this.bag = shuffle(this.options.kinds ?? CHAOS_KINDS, rng);
    for (const [position, kind] of this.bag.entries()) {
      const slots = this.candidates(kind);
      if (slots.length === 0) continue;
      this.bag.splice(position, 1);
      return { kind, slot: rng.pick(slots) };
    }
    return undefined;
  }

  /** Slots an action of `kind` may hit now. */
  private candidates(kind: ChaosKind): Slot[] {
    const role = KINDS[kind].role;
    const up = this.slots.filter((slot) => slot.role === role && !this.down.has(slot.label) && this.processIn(slot).alive);
    if (role === 'worker' && up.length < 2) return []; // never the last worker running
    if (role === 'gateway' && up.length < (this.cluster.layout.gateways ?? 1)) return []; // one gateway down at a time
    return up;
  }

  private async act(kind: ChaosKind, slot: Slot): Promise<void> {
    const { signal } = KINDS[kind];
    const [min, max] = this.options.restartDelayMs;
    const action: ChaosAction = { atMs: this.now(), kind, target: slot.label, restartDelayMs: Math.round(this.options.rng.between(min, max)) };
    this.actions.push(action);
    this.options.log(`${kind} ${slot.label} (restart ${action.restartDelayMs} ms after it exits)`);
    const victim = this.processIn(slot);
    this.down.set(slot.label, signal);
    this.signalled.add(victim);
    this.options.beforeKill(victim);
    const signalledAt = Date.now();
    // A graceful stop gets the role's own time limit (the gateway drains for 2 s) before the harness SIGKILLs.
    await victim.stop(signal, 20_000);
    action.stopMs = Date.now() - signalledAt;
    action.exit = { code: victim.exit!.code, signal: victim.exit!.signal };
    if (signal === 'SIGTERM' && victim.exit!.code !== 0) {
      this.anomaly(`${slot.label} did not stop cleanly on SIGTERM: ${JSON.stringify(action.exit)} after ${action.stopMs} ms`);
    }
    await sleep(action.restartDelayMs);
    await this.restart(slot);
    action.downMs = Date.now() - signalledAt;
  }

  private async restart(slot: Slot): Promise<void> {
    const fresh = this.startIn(slot);
    try {
      await fresh.waitForEvent('ready', {}, 20_000);
    } catch (error) {
      this.anomaly(`${slot.label} restarted but not ready: ${(error as Error).message}`);
    }
    this.down.delete(slot.label);
  }

  private processIn(slot: Slot): RoleProcess {
    if (slot.role === 'register') return this.cluster.register;
    return (slot.role === 'gateway' ? this.cluster.gateways : this.cluster.workers)[slot.index]!;
  }

  private startIn(slot: Slot): RoleProcess {
    const { cluster } = this;
    if (slot.role === 'register') return (cluster.register = cluster.startRegister());
    if (slot.role === 'gateway') return (cluster.gateways[slot.index] = cluster.startGateway(slot.index));
    return (cluster.workers[slot.index] = cluster.startWorker(slot.index));
  }

  private track(promise: Promise<void>): void {
    const tracked: Promise<void> = promise
      .catch((error: unknown) => this.anomaly(`chaos action failed: ${(error as Error).message}`))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private anomaly(text: string): void {
    this.anomalies.push(text);
    this.options.log(`ANOMALY: ${text}`);
  }

  private now(): number {
    return Date.now() - this.options.startedAt;
  }
}
