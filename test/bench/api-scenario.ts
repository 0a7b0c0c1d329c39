/**
 * The HTTP API against a GatewayClient: `sendToUid` to clients bound one uid each, made through `gwc api` (one
 * request per call, and `/v1/batch` requests) and by a GatewayClient in this process, in rounds of one slice per
 * way, back to back. A slice's rate is its calls over the time until the clients have received every one of its
 * messages, so each way is counted for the same work, end to end.
 */
import { Agent, request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { waitFor } from '../harness/wait.js';
import { startApi, type ApiEndpoints, type Target } from './targets.js';

export interface ApiConfig {
  clients: number;
  /** Calls per slice. */
  calls: number;
  /** Requests (or GatewayClient calls) in flight at once. */
  concurrency: number;
  /** Calls per /v1/batch request. */
  batchSize: number;
  rounds: number;
  size: number;
}

export const API_WAYS = ['client', 'http', 'batch'] as const;
export type ApiWay = (typeof API_WAYS)[number];

export interface ApiResult {
  /** Calls per second of each slice, by way, in round order. */
  sliceRates: Record<ApiWay, number[]>;
}

export async function runApi(target: Target, config: ApiConfig & { cpuProfDir?: string | undefined }, progress: (line: string) => void): Promise<ApiResult> {
  const api = await startApi(config.cpuProfDir ? { cpuProfDir: config.cpuProfDir } : {});
  const clients = await connectBoundClients(target.url, api, config.clients);
  try {
    const message = 'u'.repeat(config.size);
    const slice = (way: ApiWay, calls: number) => measure(way, calls, { api, clients, config, message });
    return { sliceRates: await inRounds('api', API_WAYS, config, slice, progress) };
  } finally {
    for (const socket of clients.sockets) socket.terminate();
    await api.stop();
  }
}

/**
 * An uncounted warm-up slice of a quarter of the calls per way, then `rounds` rounds of one slice per way, back to
 * back, in alternating order; each slice's rate (calls per second) by way, in round order.
 */
export async function inRounds<W extends string>(
  what: string,
  ways: readonly W[],
  config: { calls: number; rounds: number },
  slice: (way: W, calls: number) => Promise<number>,
  progress: (line: string) => void,
): Promise<Record<W, number[]>> {
  for (const way of ways) await slice(way, Math.ceil(config.calls / 4));
  const sliceRates = Object.fromEntries(ways.map((way) => [way, [] as number[]])) as Record<W, number[]>;
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? ways : [...ways].reverse();
    for (const way of order) sliceRates[way].push(await slice(way, config.calls));
    progress(`${what} round ${round + 1}/${config.rounds}: ${ways.map((w) => `${w} ${Math.round(sliceRates[w].at(-1)!)}/s`).join(', ')}`);
  }
  return sliceRates;
}

export interface Clients {
  sockets: WebSocket[];
  /** Messages received by all of them so far. */
  received(): number;
}

/** `count` WebSocket clients of `url`, bound to uids u0, u1, ... through the API's GatewayClient. */
export async function connectBoundClients(url: string, api: ApiEndpoints, count: number): Promise<Clients> {
  const clients = await connectClients(url, count);
  const ids = await waitFor('every bench client to be listed', async () => {
    const list = await api.client.getAllClientIdList();
    return list.length === count ? list : undefined;
  }, 15_000, 50);
  await Promise.all(ids.map((id, i) => api.client.bindUid(id, `u${i}`)));
  return clients;
}

async function connectClients(url: string, count: number): Promise<Clients> {
  let received = 0;
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.on('message', () => received++);
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    })),
  );
  return { sockets, received: () => received };
}

interface SliceContext {
  api: ApiEndpoints;
  clients: Clients;
  config: ApiConfig;
  message: string;
}

/** Makes `calls` sendToUid calls `way`, round-robin over the uids; calls per second until the last delivery. */
async function measure(way: ApiWay, calls: number, ctx: SliceContext): Promise<number> {
  const { config } = ctx;
  const before = ctx.clients.received();
  const perRequest = way === 'batch' ? config.batchSize : 1;
  let next = 0;
  const uid = (i: number) => `u${i % config.clients}`;
  /**
   * A batch's body, made once for its first uid and length (the uids go round, so a slice needs a few): made afresh
   * for every request, its JSON.stringify cost this process more CPU per call than the API server spends on the
   * call, CPU the servers then lacked on this 2-core machine.
   */
  const bodies = new Map<string, string>();
  const batchBody = (first: number, count: number): string => {
    const key = `${first % config.clients}/${count}`;
    let body = bodies.get(key);
    if (body === undefined) {
      body = JSON.stringify({ calls: Array.from({ length: count }, (_, k) => ({ method: 'sendToUid', args: { uid: uid(first + k), message: ctx.message } })) });
      bodies.set(key, body);
    }
    return body;
  };
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (next < calls) {
      const first = next;
      next = Math.min(calls, next + perRequest);
      if (way === 'client') await ctx.api.client.sendToUid(uid(first), ctx.message);
      else if (way === 'http') await post(ctx.api, 'sendToUid', JSON.stringify({ uid: uid(first), message: ctx.message }));
      else await post(ctx.api, 'batch', batchBody(first, next - first));
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, lane));
  await waitFor(`every ${way} message to arrive`, () => ctx.clients.received() - before >= calls, 60_000, 1);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return calls / seconds;
}

/** node:http with keep-alive: undici's fetch costs this process more CPU per request than the API server spends. */
const agent = new Agent({ keepAlive: true });

function post(api: ApiEndpoints, method: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${api.url}${method}`, { method: 'POST', agent, headers: { authorization: api.authorization, 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) return reject(new Error(`POST ${method}: HTTP ${response.statusCode} ${text}`));
        // Parsed only when it may hold an error: a failed call's part of a batch's answer is {"error": ...}.
        const failed = text.includes('"error"') ? (JSON.parse(text) as { results?: Array<{ error?: string }> }).results?.find((r) => r.error !== undefined) : undefined;
        if (failed) return reject(new Error(`POST ${method}: a call failed: ${failed.error}`));
        resolve();
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}
