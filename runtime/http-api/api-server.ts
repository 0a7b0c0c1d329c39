import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { z } from 'zod';
import type { GatewayApi } from '../gateway-api/gateway-api.js';
import type { Logger } from '../observability/log.js';
import { apiMethods, batchSchema, isApiMethod, type ApiMethodName } from './api-methods.js';
import type { ApiKeys } from './api-keys.js';
import { callFailureStatus } from './call-status.js';
import { openApiDocument } from './openapi.js';

export interface ApiServerOptions {
  api: GatewayApi;
  keys: ApiKeys;
  /** Largest request body; past it, 413. */
  maxBodyBytes: number;
  /** Seconds a request may take to arrive in full. */
  requestTimeout: number;
  log: Logger;
  registry: Registry;
}

/** An answer that is not 200: its status and a message for the caller. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type CallOutcome = { result: unknown } | { failure: Error };

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };
const PREFIX = '/v1/';

/**
 * The Gateway API over HTTP/JSON: `POST /v1/<method>` with the method's named arguments as a JSON object, answered
 * with `{"result": ...}`; `POST /v1/batch` with `{"calls": [{method, args}]}`, run in order and answered with
 * `{"results": [{result} | {error}]}`; `GET /v1/openapi.json`. Every call needs `Authorization: Bearer <key>`:
 * without a valid key the answer is 401 and nothing is read or done. Bad JSON, an unknown method or a bad argument
 * is 400 naming what is wrong; a body over the limit is 413; a Gateway API call that fails is answered as its cause
 * deserves (call-status.ts): 400 for an argument a gateway refused, 504 for a gateway too slow, 502 for the cluster failing.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const { log } = options;
  const requests = new Counter({
    name: 'gwc_api_requests_total',
    help: 'HTTP API requests by method (or batch, openapi, unknown) and status',
    labelNames: ['method', 'status'],
    registers: [options.registry],
  });
  const calls = new Counter({
    name: 'gwc_api_calls_total',
    help: 'Gateway API calls made through HTTP (single or in a batch) by method and outcome (ok, error)',
    labelNames: ['method', 'outcome'],
    registers: [options.registry],
  });
  const duration = new Histogram({
    name: 'gwc_api_request_duration_seconds',
    help: 'Time from request to answer, by method',
    labelNames: ['method'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [options.registry],
  });

  const call = async (name: ApiMethodName, args: unknown): Promise<CallOutcome> => {
    try {
      const result = await apiMethods[name].call(options.api, args);
      calls.inc({ method: name, outcome: 'ok' });
      return { result: result ?? null };
    } catch (error) {
      calls.inc({ method: name, outcome: 'error' });
      log.warn('Gateway API call failed', { method: name, error });
      return { failure: error as Error };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, label: (name: string) => void): Promise<unknown> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.startsWith(PREFIX)) throw new HttpError(404, `no such path: ${path} (the API is under ${PREFIX})`);
    const name = path.slice(PREFIX.length);
    if (name === 'openapi.json') {
      label('openapi');
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return openApiDocument();
    }
    label(name === 'batch' || isApiMethod(name) ? name : 'unknown');
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    if (!options.keys.allows(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, 'missing or invalid API key (Authorization: Bearer <key>)');
    }
    if (name !== 'batch' && !isApiMethod(name)) throw new HttpError(400, `unknown method ${JSON.stringify(name)}`);
    const body = await readJson(req, options.maxBodyBytes);
    if (name !== 'batch') {
      const outcome = await call(name, parse(apiMethods[name].args, body, 'body'));
      if ('failure' in outcome) throw new HttpError(callFailureStatus(outcome.failure), outcome.failure.message);
      return outcome;
    }
    const batch = parse(batchSchema, body, 'body');
    // Every call is checked before any is made: a batch with a bad call does nothing.
    const checked = batch.calls.map((entry, index) => {
      if (!isApiMethod(entry.method)) throw new HttpError(400, `calls[${index}].method: unknown method ${JSON.stringify(entry.method)}`);
      return { name: entry.method, args: parse(apiMethods[entry.method].args, entry.args ?? {}, `calls[${index}].args`) };
    });
    const results: Array<{ result: unknown } | { error: string }> = [];
    for (const entry of checked) {
      const outcome = await call(entry.name, entry.args);
      results.push('failure' in outcome ? { error: outcome.failure.message } : outcome);
    }
    return { results };
  };

  const server = createServer((req, res) => {
    let method = 'unknown';
    const end = duration.startTimer();
    const answer = (status: number, body: unknown) => {
      requests.inc({ method, status });
      end({ method });
      if (status === 413 || status === 401) res.setHeader('connection', 'close');
      res.writeHead(status, JSON_TYPE).end(JSON.stringify(body));
    };
    handle(req, res, (name) => (method = name)).then(
      (body) => answer(200, body),
      (error: unknown) => {
        if (error instanceof HttpError) return answer(error.status, { error: error.message });
        log.error('API request failed', { method, error });
        answer(500, { error: 'internal error' });
      },
    );
  });
  server.requestTimeout = options.requestTimeout * 1000;
  server.headersTimeout = Math.min(server.requestTimeout, 60_000);
  return server;
}

/** The request body as JSON: 413 past `limit` bytes (read no further), 400 when it is not JSON. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The value as the schema reads it, or 400 naming the first field that is wrong. */
function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))].join('');
  const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
  throw new HttpError(400, `${field}: ${issue.message}${keys}`);
}
