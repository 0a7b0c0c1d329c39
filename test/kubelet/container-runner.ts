/**
 * Test-only: the life of one container in the process kubelet: start it as a process (or wait with a reason when it
 * cannot be configured), probe it (startup, then liveness and readiness), run its postStart and preStop hooks,
 * restart it as the restart policy says with an exponential back-off (1 s doubling to 10 s), and report its status
 * the way the kubelet does (state, lastState, restartCount, ready, started).
 */
import type { V1Container, V1ContainerStatus, V1LifecycleHandler } from '@kubernetes/client-node';
import { ContainerProcess, type ProcessExit, type ProcessSpec } from './container-process.js';
import { ProbeWorker, runAction, type ActionContext } from './probes.js';

/** The container cannot be started yet; it waits with this reason (ErrImagePull, CreateContainerConfigError, ...). */
export class ContainerWaitingError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

export interface PreparedContainer {
  spec: ProcessSpec;
  action: ActionContext;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface ContainerRunnerOptions {
  container: V1Container;
  /** init containers report `ready` once completed; the others once running, started and passing readiness. */
  init: boolean;
  restartPolicy: RestartPolicy;
  /** Builds the process spec; throws ContainerWaitingError for a reason to wait and retry. */
  prepare: () => Promise<PreparedContainer>;
  /** The pod's termination grace period, for kills by a failing liveness or startup probe. */
  graceMs: () => number;
  onChange: () => void;
  log: (line: string) => void;
}

interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

type State =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string }
  | { kind: 'terminated'; terminated: TerminatedState };

const BACKOFF_START_MS = 1000;
const BACKOFF_CAP_MS = 10_000;
/** A container that ran at least this long starts its back-off over. */
const BACKOFF_RESET_MS = 2 * BACKOFF_CAP_MS;
/** The kubelet gives a container at least this long after its preStop hook. */
const MIN_GRACE_AFTER_PRESTOP_MS = 2000;

export function kubeTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

export class ContainerRunner {
  state: State = { kind: 'waiting', reason: 'ContainerCreating' };
  lastTerminated: TerminatedState | undefined;
  restartCount = 0;
  started = false;
  ready = false;
  /** True once the container will not run again (terminated and not restarted, or stopped). */
  finished = false;
  process: ContainerProcess | undefined;
  /** Resolves when the container has finished for good (an init container's completion). */
  readonly whenFinished: Promise<void>;
  /** Resolves when the container has started (passed its startup probe) the first time, or finished. */
  readonly whenStarted: Promise<void>;

  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private probes: ProbeWorker[] = [];
  private killReason: string | undefined;
  private resolveFinished!: () => void;
  private resolveStarted!: () => void;
  private instances = 0;
  /** Where the current instance's hooks and probes run. */
  private action: ActionContext | undefined;

  constructor(private readonly o: ContainerRunnerOptions) {
    this.whenFinished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.whenStarted = new Promise((resolve) => (this.resolveStarted = resolve));
  }

  get name(): string {
    return this.o.container.name;
  }

  /** The exit code of the last instance, if one has ended. */
  get lastExitCode(): number | undefined {
    return this.state.kind === 'terminated' ? this.state.terminated.exitCode : undefined;
  }

  start(): void {
    this.loopDone = this.loop().catch((error: unknown) => {
      this.o.log(`container ${this.name}: internal error ${error instanceof Error ? error.stack : String(error)}`);
      this.setState({ kind: 'waiting', reason: 'RunContainerError', message: String(error) });
    });
  }

  /** Sets the waiting reason of a container that has not been started (before the pod's volumes exist, say). */
  setWaiting(reason: string, message?: string): void {
    if (this.instances === 0 && !this.finished) this.setState({ kind: 'waiting', reason, ...(message ? { message } : {}) });
  }

  private setState(state: State): void {
    this.state = state;
    this.o.onChange();
  }

  private async loop(): Promise<void> {
    let crashes = 0;
    let configFailures = 0;
    while (!this.stopping) {
      let prepared: PreparedContainer;
      try {
        prepared = await this.o.prepare();
        configFailures = 0;
      } catch (error) {
        const reason = error instanceof ContainerWaitingError ? error.reason : 'CreateContainerError';
        const message = error instanceof Error ? error.message : String(error);
        if (this.state.kind !== 'waiting' || this.state.reason !== reason || this.state.message !== message) {
          this.o.log(`container ${this.name}: ${reason}: ${message}`);
        }
        this.setState({ kind: 'waiting', reason, message });
        await this.pause(Math.min(BACKOFF_START_MS * 2 ** configFailures++, BACKOFF_CAP_MS));
        continue;
      }
      if (this.stopping) break;
      if (this.instances > 0) this.restartCount++;
      this.instances++;
      const proc = new ContainerProcess(prepared.spec);
      this.process = proc;
      this.action = prepared.action;
      this.killReason = undefined;
      const containerID = proc.pid === undefined ? undefined : `process://${proc.pid}`;
      this.o.log(`container ${this.name}: started ${containerID ?? '(no pid)'}`);
      if (proc.pid !== undefined) {
        this.setState({ kind: 'running', startedAt: kubeTime(proc.startedAt) });
        this.startProbes(proc, prepared.action);
      }
      const exit = await proc.exited;
      this.stopProbes();
      this.process = undefined;
      this.started = false;
      this.ready = false;
      const terminated = this.terminatedState(exit, proc, containerID);
      this.o.log(`container ${this.name}: ${terminated.reason} exit code ${terminated.exitCode}${terminated.message ? ` (${terminated.message})` : ''}`);
      const restart = !this.stopping && (this.o.restartPolicy === 'Always' || (this.o.restartPolicy === 'OnFailure' && exit.exitCode !== 0));
      if (!restart) {
        this.finished = true;
        if (this.o.init && exit.exitCode === 0) this.ready = true;
        this.setState({ kind: 'terminated', terminated });
        break;
      }
      if (exit.finishedAt.getTime() - proc.startedAt.getTime() >= BACKOFF_RESET_MS) crashes = 0;
      const delay = Math.min(BACKOFF_START_MS * 2 ** crashes++, BACKOFF_CAP_MS);
      this.lastTerminated = terminated;
      this.setState({ kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container=${this.name}` });
      await this.pause(delay);
    }
    this.finished = true;
    this.resolveStarted();
    this.resolveFinished();
  }

  private terminatedState(exit: ProcessExit, proc: ContainerProcess, containerID: string | undefined): TerminatedState {
    const reason = exit.startError ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error';
    const message = exit.startError ?? this.killReason;
    return {
      exitCode: exit.exitCode,
      ...(exit.signal ? { signal: exit.exitCode - 128 } : {}),
      reason,
      ...(message ? { message } : {}),
      startedAt: kubeTime(proc.startedAt),
      finishedAt: kubeTime(exit.finishedAt),
      ...(containerID ? { containerID } : {}),
    };
  }

  private startProbes(proc: ContainerProcess, action: ActionContext): void {
    const { container } = this.o;
    const afterStarted = () => {
      if (this.process !== proc) return;
      this.started = true;
      this.resolveStarted();
      if (container.livenessProbe && !this.o.init) {
        const probe = container.livenessProbe;
        const worker = new ProbeWorker('liveness', probe, (timeoutMs) => runAction(probe, action, timeoutMs), (ok, message) => {
          if (!ok) void this.killForRestart(proc, action, `Liveness probe failed: ${message ?? ''}`, probe.terminationGracePeriodSeconds);
        });
        this.probes.push(worker);
        worker.start();
      }
      if (container.readinessProbe && !this.o.init) {
        const probe = container.readinessProbe;
        const worker = new ProbeWorker('readiness', probe, (timeoutMs) => runAction(probe, action, timeoutMs), (ok) => {
          if (this.process !== proc) return;
          this.ready = ok;
          this.o.onChange();
        });
        this.probes.push(worker);
        worker.start();
      } else if (!this.o.init) {
        this.ready = true;
      }
      this.o.onChange();
    };
    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      void runAction(postStart, action, this.o.graceMs()).then((outcome) => {
        if (!outcome.ok && this.process === proc) void this.killForRestart(proc, action, `PostStartHook failed: ${outcome.message ?? ''}`);
      });
    }
    if (container.startupProbe && !this.o.init) {
      const probe = container.startupProbe;
      const worker = new ProbeWorker('startup', probe, (timeoutMs) => runAction(probe, action, timeoutMs), (ok, message) => {
        if (ok) afterStarted();
        else void this.killForRestart(proc, action, `Startup probe failed: ${message ?? ''}`, probe.terminationGracePeriodSeconds);
      });
      this.probes.push(worker);
      worker.start();
    } else {
      afterStarted();
    }
  }

  private stopProbes(): void {
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }

  /** A failed liveness/startup probe or postStart hook: preStop, then SIGTERM and SIGKILL after the grace period. */
  private async killForRestart(proc: ContainerProcess, action: ActionContext, why: string, graceSeconds?: number | null): Promise<void> {
    if (this.process !== proc || this.killReason !== undefined || this.stopping) return;
    this.killReason = why;
    this.o.log(`container ${this.name}: ${why}; killing it`);
    this.stopProbes();
    this.ready = false;
    this.o.onChange();
    const graceMs = typeof graceSeconds === 'number' ? graceSeconds * 1000 : this.o.graceMs();
    await this.stopProcess(proc, action, Date.now() + graceMs, true);
  }

  private async stopProcess(proc: ContainerProcess, action: ActionContext | undefined, deadline: number, preStop: boolean): Promise<void> {
    const hook: V1LifecycleHandler | undefined = this.o.container.lifecycle?.preStop;
    if (preStop && hook && action && proc.running) {
      const outcome = await runAction(hook, action, Math.max(1000, deadline - Date.now()));
      this.o.log(`container ${this.name}: preStop hook ${outcome.ok ? 'ran' : `failed: ${outcome.message ?? ''}`}`);
      deadline = Math.max(deadline, Date.now() + MIN_GRACE_AFTER_PRESTOP_MS);
    }
    await proc.terminate(deadline - Date.now());
  }

  /**
   * Stops the container for good: runs the preStop hook when asked (within the deadline), then SIGTERM, then SIGKILL
   * at the deadline (epoch ms). Resolves once the process has exited.
   */
  async shutdown(deadline: number, options: { preStop: boolean }): Promise<void> {
    this.stopping = true;
    this.stopProbes();
    this.wake?.();
    const proc = this.process;
    if (proc) await this.stopProcess(proc, this.action, deadline, options.preStop);
    await this.loopDone;
    if (this.state.kind === 'waiting' && this.instances > 0 && this.lastTerminated) {
      this.setState({ kind: 'terminated', terminated: this.lastTerminated });
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** The container's status as the kubelet reports it. Unset state kinds are null so a patch clears them. */
  status(image: string): V1ContainerStatus {
    const state =
      this.state.kind === 'waiting'
        ? { waiting: { reason: this.state.reason, ...(this.state.message ? { message: this.state.message } : {}) }, running: null, terminated: null }
        : this.state.kind === 'running'
          ? { running: { startedAt: this.state.startedAt }, waiting: null, terminated: null }
          : { terminated: this.state.terminated, waiting: null, running: null };
    const containerID = this.process?.pid !== undefined ? `process://${this.process.pid}` : this.state.kind === 'terminated' ? this.state.terminated.containerID : undefined;
    return {
      name: this.name,
      image,
      imageID: image,
      ...(containerID ? { containerID } : {}),
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      state,
      lastState: this.lastTerminated ? { terminated: this.lastTerminated } : {},
    } as unknown as V1ContainerStatus;
  }
}
