/**
 * Test-only: a client-node ListWatch that keeps going. ListWatch re-watches by itself when a watch ends normally or
 * times out (client-node ends a watch that is silent for 30 s), and relists after 410 Gone; but after any other
 * error (API server unreachable, list failed, ...) it stops for good. This wrapper restarts it after such errors
 * with an exponential back-off (0.5 s doubling to 8 s), until stop().
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface InformerHandlers<T> {
  /** Added or modified. */
  upsert?: (object: T) => void;
  remove?: (object: T) => void;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    kubeConfig: KubeConfig,
    readonly path: string,
    list: () => Promise<KubernetesListObject<T>>,
    handlers: InformerHandlers<T>,
    private readonly log: (line: string) => void,
  ) {
    this.informer = new ListWatch<T>(path, new Watch(kubeConfig), list, false);
    const guard = (fn: ((object: T) => void) | undefined) => (object: T) => {
      if (this.stopped || !fn) return;
      this.failures = 0;
      try {
        fn(object);
      } catch (error) {
        this.log(`${path}: handler failed: ${error instanceof Error ? error.stack : String(error)}`);
      }
    };
    this.informer.on('add', guard(handlers.upsert));
    this.informer.on('update', guard(handlers.upsert));
    this.informer.on('delete', guard(handlers.remove));
    this.informer.on('error', (error?: unknown) => {
      if (this.stopped) return;
      const delay = Math.min(500 * 2 ** this.failures++, 8000);
      this.log(`${path}: watch failed (${error instanceof Error ? error.message : String(error)}); restarting in ${delay} ms`);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.begin(), delay);
    });
  }

  /** Lists, then watches; resolves after the first list (or its failure, which schedules a retry). */
  async start(): Promise<void> {
    await this.begin();
  }

  private async begin(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer.start();
    } catch (error) {
      // start() itself rejects when the watch request cannot even be made
      if (this.stopped) return;
      const delay = Math.min(500 * 2 ** this.failures++, 8000);
      this.log(`${this.path}: watch could not start (${error instanceof Error ? error.message : String(error)}); retrying in ${delay} ms`);
      this.retryTimer = setTimeout(() => void this.begin(), delay);
    }
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer.stop();
  }
}
