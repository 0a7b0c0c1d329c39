/**
 * Test-only: the process kubelet's probes and lifecycle hooks (httpGet to the pod IP, tcpSocket, exec as a local
 * process, sleep) and the probe worker that turns periodic results into a state with the kubelet's thresholds.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { V1ContainerPort, V1HTTPGetAction, V1LifecycleHandler, V1Probe } from '@kubernetes/client-node';

export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

/** Where and how to run an action of a container. */
export interface ActionContext {
  podIP: string;
  ports: readonly V1ContainerPort[];
  env: Record<string, string>;
  cwd: string;
  /** Maps an exec command word to what to run (volume path rewriting). */
  rewrite: (value: string) => string;
}

type Action = Pick<V1Probe, 'httpGet' | 'tcpSocket' | 'exec' | 'grpc'> & Pick<V1LifecycleHandler, 'sleep'>;

/** Runs one probe or hook action, resolving (never rejecting) with its outcome. */
export async function runAction(action: Action, ctx: ActionContext, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    if (action.httpGet) return await httpGet(action.httpGet, ctx, timeoutMs);
    if (action.tcpSocket) return await tcpConnect(action.tcpSocket.host || ctx.podIP, resolvePort(action.tcpSocket.port, ctx.ports), timeoutMs);
    if (action.exec) return await execCommand(action.exec.command ?? [], ctx, timeoutMs);
    if (action.sleep) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(action.sleep!.seconds * 1000, timeoutMs)));
      return { ok: true };
    }
    if (action.grpc) return { ok: false, message: 'grpc probes are not supported by the process kubelet' };
    return { ok: false, message: 'the action has no handler' };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** A port number, or the number of the container port with that name. */
export function resolvePort(port: number | string, ports: readonly V1ContainerPort[]): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = ports.find((p) => p.name === port);
  if (!named) throw new Error(`no container port named "${port}"`);
  return named.containerPort;
}

function httpGet(action: V1HTTPGetAction, ctx: ActionContext, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, ctx.ports);
  const host = action.host || ctx.podIP;
  const secure = (action.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/process-kubelet', accept: '*/*' };
  for (const header of action.httpHeaders ?? []) headers[header.name.toLowerCase()] = header.value;
  const requestPath = action.path ? (action.path.startsWith('/') ? action.path : `/${action.path}`) : '/';
  return new Promise((resolve) => {
    const request = (secure ? https : http).request(
      { host, port, path: requestPath, method: 'GET', headers, timeout: timeoutMs, agent: false, ...(secure ? { rejectUnauthorized: false } : {}) },
      (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve(status >= 200 && status < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${status}` });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`Get "http://${host}:${port}${requestPath}": context deadline exceeded`)));
    request.on('error', (error) => resolve({ ok: false, message: error.message }));
    request.end();
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, message: error.message });
    });
  });
}

function execCommand(command: readonly string[], ctx: ActionContext, timeoutMs: number): Promise<ProbeOutcome> {
  if (command.length === 0) return Promise.resolve({ ok: false, message: 'exec has no command' });
  const [file, ...args] = command.map(ctx.rewrite);
  return new Promise((resolve) => {
    const child = spawn(file!, args, { env: ctx.env, cwd: ctx.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < 4096) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, message: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, message: signal ? `command timed out or was killed (${signal}): ${output.trim()}` : `command exited with ${code}: ${output.trim()}` });
    });
  });
}

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/**
 * Runs a probe every periodSeconds after initialDelaySeconds, each with timeoutSeconds, and reports the state the
 * kubelet would: success after successThreshold successes in a row, failure after failureThreshold failures in a
 * row. Readiness and startup start as failure (not ready, not started), liveness as success.
 */
export class ProbeWorker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  result: boolean;
  lastMessage: string | undefined;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: V1Probe,
    private readonly run: (timeoutMs: number) => Promise<ProbeOutcome>,
    private readonly onResult: (result: boolean, message: string | undefined) => void,
  ) {
    this.result = kind === 'liveness';
  }

  start(): void {
    this.schedule(Math.max(0, this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const timeoutMs = Math.max(1, this.probe.timeoutSeconds ?? 1) * 1000;
    const outcome = await this.run(timeoutMs);
    if (this.stopped) return;
    if (outcome.ok) {
      this.failures = 0;
      this.successes++;
    } else {
      this.successes = 0;
      this.failures++;
      this.lastMessage = outcome.message;
    }
    const successThreshold = this.kind === 'readiness' ? Math.max(1, this.probe.successThreshold ?? 1) : 1;
    const failureThreshold = Math.max(1, this.probe.failureThreshold ?? 3);
    if (!this.result && this.successes >= successThreshold) {
      this.result = true;
      this.onResult(true, undefined);
    } else if (this.result !== false && this.failures >= failureThreshold) {
      this.result = false;
      this.onResult(false, outcome.message);
    } else if (this.kind !== 'readiness' && this.failures >= failureThreshold) {
      this.onResult(false, outcome.message);
    }
    // A started container is not probed for startup any more.
    if (this.kind === 'startup' && this.result) return;
    this.schedule(Math.max(1, this.probe.periodSeconds ?? 10) * 1000);
  }
}
