import type { KubeConfig } from '@kubernetes/client-node';
import { request } from 'node:https';
import { TLSSocket } from 'node:tls';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export const FIELD_MANAGER = 'gateway-cluster-operator';
const WRITE_LOG_LENGTH = 200;
const DEFAULT_TIMEOUT_MS = 30_000;

export interface KubeClientOptions {
  /**
   * Asked before every request: the milliseconds it may take at most. At 0 or below nothing is sent (a leader whose
   * renew deadline has passed must not write). No limit but the default timeout when unset.
   */
  budgetMs?: () => number;
  /** Sent as User-Agent, so the API server's audit log tells processes apart. */
  userAgent?: string;
}

/** A request refused before it was sent: the process is not (or no longer) allowed to act. */
export class RequestNotAllowedError extends Error {}

/**
 * Plain-JSON requests to the API server with the kubeconfig's credentials. client-node's typed APIs re-serialize
 * bodies through their models (renaming or dropping fields they do not know), which server-side apply of our own
 * objects cannot afford. Counts the requests that change something, so a test can assert a quiet reconcile.
 */
export class KubeClient {
  writes = 0;
  /** The latest writes, `METHOD path` (bounded: the operator runs for months). */
  readonly writeLog: string[] = [];

  constructor(
    readonly kc: KubeConfig,
    private readonly options: KubeClientOptions = {},
  ) {}

  get server(): string {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server;
  }

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const url = new URL(this.server + path);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    const options: Parameters<typeof request>[1] = { method, headers };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) Object.assign(options.headers!, { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) });
    const budget = this.options.budgetMs?.();
    if (budget !== undefined && budget <= 0) throw this.notAllowed(method, path);
    const timeout = Math.max(1, Math.floor(Math.min(timeoutMs, budget ?? Infinity)));
    if (method !== 'GET') {
      this.writes++;
      this.writeLog.push(`${method} ${path}`);
      if (this.writeLog.length > WRITE_LOG_LENGTH) this.writeLog.shift();
    }
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<T>((resolve, reject) => {
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const problem = (parsed ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, problem.reason ?? String(status), `${method} ${path}: ${status} ${problem.message ?? text.slice(0, 300)}`));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      // A deadline for the whole exchange, not just for a silent socket.
      timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: timed out after ${timeout} ms`)), timeout);
      // Nothing is written until the connection (TLS included) is up, and the budget is asked again then: a process
      // paused while it connected would otherwise send the request when it resumes, however late that is.
      const send = () => {
        const left = this.options.budgetMs?.();
        if (left !== undefined && left <= 0) return void req.destroy(this.notAllowed(method, path));
        if (payload !== undefined) req.write(payload);
        req.end();
      };
      req.once('socket', (socket) => {
        if (!socket.connecting) send();
        else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', send);
      });
    });
    return answer.finally(() => clearTimeout(timer));
  }

  private notAllowed(method: string, path: string): RequestNotAllowedError {
    return new RequestNotAllowedError(`${method} ${path}: not sent, the leader lease's renew deadline has passed`);
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Server-side apply with our one field manager; `force` takes fields over from other managers. */
  apply<T = KubeObject>(path: string, object: unknown, force = true): Promise<T> {
    return this.request<T>('PATCH', `${path}?fieldManager=${FIELD_MANAGER}&force=${force}`, object, 'application/apply-patch+yaml');
  }

  create<T = KubeObject>(collectionPath: string, object: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath, object);
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.status === 409;
}
