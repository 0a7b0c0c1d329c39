import { Watch } from '@kubernetes/client-node';
import { EventEmitter } from 'node:events';
import type { KubeClient, KubeObject } from '../kube/kube-client.js';
import { collectionPath, type ResourceType } from '../kube/resource-paths.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** First retry delay after a failed list or watch; doubles up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (error: Error) => void;
}

/**
 * A list-then-watch cache of one kind. A watch that ends (the server closes them every few minutes) resumes from
 * the last resourceVersion; one that fails, or whose version is gone (410), relists after a backoff that grows
 * until the next success. It never stops on its own: `stop()` ends it.
 * Events: 'add' | 'update' | 'delete' (object), 'synced' after each successful list, 'restart' (reason).
 */
export class Informer extends EventEmitter {
  readonly cache = new Map<string, KubeObject>();
  synced = false;
  restarts = 0;
  private resourceVersion = '';
  private stopped = false;
  private abort: AbortController | undefined;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    super();
    this.backoffMs = options.initialBackoffMs ?? 500;
  }

  start(): this {
    void this.run();
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  items(): KubeObject[] {
    return [...this.cache.values()];
  }

  private async relist(): Promise<void> {
    const query = new URLSearchParams();
    if (this.options.labelSelector) query.set('labelSelector', this.options.labelSelector);
    const path = `${collectionPath(this.type, this.options.namespace)}?${query}`;
    const list = await this.client.get<{ metadata: { resourceVersion: string }; items: KubeObject[] }>(path);
    const seen = new Set<string>();
    for (const item of list.items) {
      item.apiVersion ??= this.type.apiVersion;
      item.kind ??= this.type.kind;
      const key = keyOf(item);
      seen.add(key);
      this.upsert(key, item);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = list.metadata.resourceVersion;
    this.synced = true;
    this.emit('synced');
  }

  private upsert(key: string, object: KubeObject): void {
    const old = this.cache.get(key);
    if (old?.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.cache.set(key, object);
    this.emit(old ? 'update' : 'add', object);
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.relist();
      this.backoffMs = this.options.initialBackoffMs ?? 500;
      await this.watch();
    } catch (error) {
      this.retry(`list failed: ${(error as Error).message}`);
    }
  }

  private retry(reason: string): void {
    if (this.stopped) return;
    this.restarts++;
    this.options.onError?.(new Error(`${this.type.kind} informer: ${reason}`));
    this.emit('restart', reason);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
    this.retryTimer = setTimeout(() => void this.run(), delay);
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let gone = false;
    const query: Record<string, string | boolean> = { resourceVersion: this.resourceVersion, allowWatchBookmarks: true };
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    this.abort = await new Watch(this.client.kc).watch(
      collectionPath(this.type, this.options.namespace),
      query,
      (phase: string, object: KubeObject & { code?: number }) => {
        if (phase === 'ERROR') {
          gone = true; // usually 410 Gone: our resourceVersion is too old
          return;
        }
        if (object?.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (phase === 'BOOKMARK') return;
        object.apiVersion ??= this.type.apiVersion;
        object.kind ??= this.type.kind;
        const key = keyOf(object);
        if (phase === 'DELETED') {
          if (this.cache.delete(key)) this.emit('delete', object);
        } else {
          this.upsert(key, object);
        }
      },
      (error: Error | null) => {
        if (this.stopped) return;
        if (error && error.name !== 'AbortError') this.retry(`watch failed: ${error.message}`);
        else if (gone) this.retry('watch expired (resource version gone)');
        else void this.watch().catch((failure: Error) => this.retry(`watch failed: ${failure.message}`));
      },
    );
  }
}

export function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
