/**
 * The HTTP API against a GatewayClient: `sendToUid` to clients bound one uid each, made through `gwc api` (one
 * request per call, and `/v1/batch` requests) and by a GatewayClient in this process, in rounds of one slice per
 * way, back to back. A slice's rate is its calls over the time until the clients have received every one of its
 * messages, so each way is counted for the same work, end to end.
 */
import WebSocket from 'ws';
import { waitFor } from '../harness/wait.js';
import { RawHttpConnection, requestBytes } from './raw-http-client.js';
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
  const url = new URL(api.url);
  const connections = Array.from({ length: config.concurrency }, () => new RawHttpConnection(url.hostname, Number(url.port)));
  try {
    const message = 'u'.repeat(config.size);
    const requests = new Map<string, Buffer>();
    /** A POST's bytes, made once per `key` (the uids go round, so a slice needs a few). */
    const request = (method: string, key: string, body: () => string): Buffer => {
      let bytes = requests.get(`${method} ${key}`);
      if (bytes === undefined) requests.set(`${method} ${key}`, (bytes = requestBytes(url.host, `${url.pathname}${method}`, { authorization: api.authorization }, body())));
      return bytes;
    };
    const slice = (way: ApiWay, calls: number) => measure(way, calls, { api, clients, config, message, connections, request });
    return { sliceRates: await inRounds('api', API_WAYS, config, slice, progress) };
  } finally {
    for (const connection of connections) connection.close();
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
  /** One per lane. */
  connections: RawHttpConnection[];
  request(method: string, key: string, body: () => string): Buffer;
}

/** Makes `calls` sendToUid calls `way`, round-robin over the uids; calls per second until the last delivery. */
async function measure(way: ApiWay, calls: number, ctx: SliceContext): Promise<number> {
  const { config } = ctx;
  const before = ctx.clients.received();
  const perRequest = way === 'batch' ? config.batchSize : 1;
  let next = 0;
  const uid = (i: number) => `u${i % config.clients}`;
  /**
   * A request's bytes are made once for its first uid and length: made afresh for every request, its JSON.stringify
   * cost this process more CPU per call than the API server spends on the call, CPU the servers then lacked on this
   * 2-core machine.
   */
  const single = (i: number) => ctx.request('sendToUid', uid(i), () => JSON.stringify({ uid: uid(i), message: ctx.message }));
  const batch = (first: number, count: number) =>
    ctx.request('batch', `${first % config.clients}/${count}`, () =>
      JSON.stringify({ calls: Array.from({ length: count }, (_, k) => ({ method: 'sendToUid', args: { uid: uid(first + k), message: ctx.message } })) }),
    );
  const started = process.hrtime.bigint();
  const lane = async (connection: RawHttpConnection) => {
    while (next < calls) {
      const first = next;
      next = Math.min(calls, next + perRequest);
      if (way === 'client') await ctx.api.client.sendToUid(uid(first), ctx.message);
      else await post(connection, way === 'http' ? single(first) : batch(first, next - first));
    }
  };
  await Promise.all(ctx.connections.map(lane));
  await waitFor(`every ${way} message to arrive`, () => ctx.clients.received() - before >= calls, 60_000, 1);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return calls / seconds;
}

/** Sends the request; fails unless it is answered 200 with no call failed. */
async function post(connection: RawHttpConnection, request: Buffer): Promise<void> {
  const { status, body } = await connection.send(request);
  if (status !== 200) throw new Error(`POST: HTTP ${status} ${body}`);
  // Parsed only when it may hold an error: a failed call's part of a batch's answer is {"error": ...}.
  const failed = body.includes('"error"') ? (JSON.parse(body) as { results?: Array<{ error?: string }> }).results?.find((r) => r.error !== undefined) : undefined;
  if (failed) throw new Error(`POST: a call failed: ${failed.error}`);
}
