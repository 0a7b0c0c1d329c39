import type { Logger } from '../../observability/log.js';
import type { SupervisedProcess } from '../../supervisor/supervised-process.js';

export interface WorkerReloadOptions {
  handlerFile: string;
  log: Logger;
  /** Starts a new worker process; `onReady` once it is connected. */
  startWorker(onReady: () => void): SupervisedProcess;
  /** True once the whole local cluster is stopping. */
  stopping(): boolean;
}

/**
 * `gwc local --watch`: a changed handler file starts a new worker, and the old one is drained once the new one is
 * connected, so clients stay connected (the gateway holds them). A new worker that does not start leaves the old
 * one running.
 */
export class WorkerReload {
  /** Workers replaced by a reload, and the new one until it is ready: their exit is expected. */
  private readonly retired = new WeakSet<SupervisedProcess>();
  private reloading: SupervisedProcess | undefined;

  /** `worker`: the one running now. */
  constructor(
    private worker: SupervisedProcess | undefined,
    private readonly options: WorkerReloadOptions,
  ) {}

  /** Whether a process's exit is part of a reload rather than the end of the cluster. */
  expectsExit(child: SupervisedProcess): boolean {
    return this.retired.has(child);
  }

  readonly reload = (): void => {
    const { log, handlerFile } = this.options;
    if (this.options.stopping()) return;
    if (this.reloading) this.retire(this.reloading); // a newer change came before the last one was ready
    log.info('handler changed: starting a new worker', { logEvent: 'worker-reloading', handler: handlerFile });
    const fresh = this.options.startWorker(() => {
      if (this.reloading !== fresh) return;
      this.reloading = undefined;
      this.retired.delete(fresh);
      const old = this.worker;
      this.worker = fresh;
      if (old) this.retire(old);
      log.info('new worker connected; the previous one drains and stops', { logEvent: 'worker-reloaded', handler: handlerFile });
    });
    this.reloading = fresh;
    void fresh.exited.then(({ code }) => {
      if (this.reloading !== fresh || this.options.stopping()) return;
      this.reloading = undefined;
      log.error('the new worker did not start (see its output above); the previous one keeps running', { logEvent: 'reload-failed', code });
    });
    this.retired.add(fresh); // until it is ready, its exit is a failed reload, not the end of the cluster
  };

  private retire(child: SupervisedProcess): void {
    this.retired.add(child);
    child.kill('SIGTERM');
  }
}
