import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { GatewayApi } from '../../runtime/gateway-api/gateway-api.js';
import { ApiKeys } from '../../runtime/http-api/api-keys.js';
import { createApiServer } from '../../runtime/http-api/api-server.js';
import { createLogger } from '../../runtime/observability/log.js';
import { RoleProcess } from './role-process.js';
import { TEST_SECRET, type TestCluster } from './test-cluster.js';

export const API_PORT = 7280;
export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface ApiAnswer<T = unknown> {
  status: number;
  body: { result?: T; results?: Array<{ result?: unknown; error?: string }>; error?: string };
}

/** The HTTP API role as its own process on 127.0.S.30 (+index), part of the cluster (stopped with it). */
export async function startApi(cluster: TestCluster, options: { index?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const ip = cluster.ip(30 + (options.index ?? 0));
  const api = cluster.adopt(
    new RoleProcess(`api${options.index ?? 0}`, ['api', '--register-address', cluster.registerAddress, '--host', ip, '--metrics-host', ip, ...(options.args ?? [])], {
      GWC_SECRET: TEST_SECRET,
      GWC_API_KEY: TEST_API_KEY,
      ...options.env,
    }),
  );
  await api.waitForEvent('ready');
  return `http://${ip}:${API_PORT}`;
}

/** The HTTP API server in this process, on a free port of 127.0.0.1, in front of `api` (a unit test's GatewayApi), taking TEST_API_KEY. */
export async function listenApi(api: GatewayApi): Promise<{ base: string; close(): void }> {
  const log = createLogger({ role: 'unit-test' }, 'error', () => {});
  const server = createApiServer({ api, keys: new ApiKeys([TEST_API_KEY], undefined, log), maxBodyBytes: 1 << 16, requestTimeout: 10, log, registry: new Registry() });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** POST /v1/<path> with a JSON body (or the raw text given) and the key given (null: no Authorization header). */
export async function postApi<T = unknown>(base: string, path: string, body: unknown, key: string | null = TEST_API_KEY): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${base}/v1/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as ApiAnswer<T>['body'] };
}

/** A call that must succeed: its result. */
export async function callApi<T = unknown>(base: string, method: string, args: Record<string, unknown> = {}): Promise<T> {
  const answer = await postApi<T>(base, method, args);
  if (answer.status !== 200) throw new Error(`${method}: HTTP ${answer.status}: ${answer.body.error}`);
  return answer.body.result as T;
}
