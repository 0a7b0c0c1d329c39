/**
 * Test-only: one container instance of the process kubelet, an OS process in its own process group with stdout and
 * stderr appended to the container's log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import os from 'node:os';

export interface ProcessExit {
  /** As a container runtime reports it: the exit code, or 128 + the signal number when killed by a signal. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  finishedAt: Date;
  /** Set when the process could not be started at all. */
  startError?: string;
}

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
}

export class ContainerProcess {
  readonly startedAt = new Date();
  readonly exited: Promise<ProcessExit>;
  exit: ProcessExit | undefined;
  private readonly child: ChildProcess;

  constructor(readonly spec: ProcessSpec) {
    appendFileSync(spec.logFile, `----- process kubelet: starting ${JSON.stringify([spec.file, ...spec.args])} at ${this.startedAt.toISOString()}\n`);
    const fd = openSync(spec.logFile, 'a');
    try {
      // detached: its own process group, so a container's children are signalled with it.
      this.child = spawn(spec.file, spec.args, { env: spec.env, cwd: spec.cwd, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise<ProcessExit>((resolve) => {
      const finish = (exit: ProcessExit) => {
        if (this.exit) return;
        this.exit = exit;
        const how = exit.startError ? `could not start: ${exit.startError}` : `exited with ${exit.exitCode}${exit.signal ? ` (${exit.signal})` : ''}`;
        try {
          appendFileSync(spec.logFile, `----- process kubelet: ${how} at ${exit.finishedAt.toISOString()}\n`);
        } catch {
          // the pod folder may be gone
        }
        resolve(exit);
      };
      this.child.once('error', (error) => finish({ exitCode: 128, signal: null, finishedAt: new Date(), startError: error.message }));
      this.child.once('exit', (code, signal) => {
        // As when a container's main process ends: whatever else it started in its group goes with it.
        try {
          process.kill(-this.child.pid!, 'SIGKILL');
        } catch {
          // the group is empty
        }
        const signalNumber = signal ? (os.constants.signals[signal] ?? 0) : 0;
        finish({ exitCode: code ?? 128 + signalNumber, signal, finishedAt: new Date() });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  /** Signals the whole process group (falling back to the process). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL once `graceMs` have passed; resolves when the process has exited. */
  async terminate(graceMs: number): Promise<ProcessExit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), Math.max(0, graceMs));
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
