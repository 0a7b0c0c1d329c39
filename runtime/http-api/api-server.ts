import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { GatewayApi } from '../gateway-api/gateway-api.js';
import { FastHistogram } from '../observability/fast-histogram.js';
import type { Logger } from '../observability/log.js';
import { acceptsAsIs, type AsIsCheck } from './accepts-as-is.js';
import { apiMethods, batchSchema, isApiMethod, type ApiMethodName } from './api-methods.js';
import type { ApiKeys } from './api-keys.js';
import { callFailureStatus } from './call-status.js';
import { talliedCounter } from './tallied-counter.js';
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

const JSON_TYPE = 'application/json; charset=utf-8';
const PREFIX = '/v1/';
/** The answer of every call whose result is nothing (the sends, the state changes), written as is. */
const RESULT_NULL = JSON.stringify({ result: null });
const INTERNAL_ERROR = JSON.stringify({ error: 'internal error' });

/**
 * The Gateway API over HTTP/JSON: `POST /v1/<method>` with the method's named arguments as a JSON object, answered
 * with `{"result": ...}`; `POST /v1/batch` with `{"calls": [{method, args}]}`, run in order and answered with
 * `{"results": [{result} | {error}]}`; `GET /v1/openapi.json`. Every call needs `Authorization: Bearer <key>`:
 * without a valid key the answer is 401 and nothing is read or done. Bad JSON, an unknown method or a bad argument
 * is 400 naming what is wrong; a body over the limit is 413; a Gateway API call that fails is answered as its cause
 * deserves (call-status.ts): 400 for an argument a gateway refused, 504 for a gateway too slow, 502 for the cluster failing.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const { log, keys, api, maxBodyBytes } = options;
  const requests = talliedCounter({
    name: 'gwc_api_requests_total',
    help: 'HTTP API requests by method (or batch, openapi, unknown) and status',
    labelNames: ['method', 'status'],
    registry: options.registry,
  });
  const calls = talliedCounter({
    name: 'gwc_api_calls_total',
    help: 'Gateway API calls made through HTTP (single or in a batch) by method and outcome (ok, error)',
    labelNames: ['method', 'outcome'],
    registry: options.registry,
  });
  const duration = new FastHistogram(
    'gwc_api_request_duration_seconds',
    'Time from request to answer, by method',
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    options.registry,
    'method',
  );

  /** The call's result; a call that fails is counted, logged and passed on. */
  const call = async (name: ApiMethodName, args: unknown): Promise<unknown> => {
    try {
      const result = await apiMethods[name].call(api, args);
      calls.inc(name, 'ok');
      return result ?? null;
    } catch (error) {
      calls.inc(name, 'error');
      log.warn('Gateway API call failed', { method: name, error });
      throw new CallFailed(error as Error);
    }
  };

  /** The answer to a single call: its result, or the status its failure deserves. */
  const single = async (name: ApiMethodName, body: unknown): Promise<string> => {
    const args = parse(apiMethods[name].args, body, 'body');
    try {
      const result = await call(name, args);
      return result === null ? RESULT_NULL : JSON.stringify({ result });
    } catch (error) {
      if (!(error instanceof CallFailed)) throw error;
      throw new HttpError(callFailureStatus(error.cause), error.cause.message);
    }
  };

  const batch = async (body: unknown): Promise<string> => {
    const { calls: entries } = parse(batchSchema, body, 'body');
    // Every call is checked before any is made: a batch with a bad call does nothing.
    const checked = entries.map((entry, index) => {
      if (!isApiMethod(entry.method)) throw new HttpError(400, `calls[${index}].method: unknown method ${JSON.stringify(entry.method)}`);
      return { name: entry.method, args: parse(apiMethods[entry.method].args, entry.args ?? {}, `calls[${index}].args`) };
    });
    const results: Array<{ result: unknown } | { error: string }> = [];
    for (const entry of checked) {
      try {
        results.push({ result: await call(entry.name, entry.args) });
      } catch (error) {
        if (!(error instanceof CallFailed)) throw error;
        results.push({ error: error.cause.message });
      }
    }
    return JSON.stringify({ results });
  };

  const answer = (res: ServerResponse, method: string, started: number, status: number, body: string) => {
    requests.inc(method, status);
    duration.seriesOf(method).observe((performance.now() - started) / 1000);
    if (status === 413 || status === 401) res.setHeader('connection', 'close');
    // With its length, the answer leaves with its headers as one piece of text (without, Node sends it chunked: five pieces more).
    res.writeHead(status, ['content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(body))]).end(body);
  };
  const fail = (res: ServerResponse, method: string, started: number, error: unknown) => {
    if (error instanceof HttpError) return answer(res, method, started, error.status, JSON.stringify({ error: error.message }));
    log.error('API request failed', { method, error });
    answer(res, method, started, 500, INTERNAL_ERROR);
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    let method = 'unknown';
    try {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const path = query === -1 ? url : url.slice(0, query);
      if (!path.startsWith(PREFIX)) throw new HttpError(404, `no such path: ${path} (the API is under ${PREFIX})`);
      const name = path.slice(PREFIX.length);
      if (name === 'openapi.json') {
        method = 'openapi';
        if (req.method !== 'GET') throw new HttpError(405, 'use GET');
        return answer(res, method, started, 200, JSON.stringify(openApiDocument()));
      }
      const known = isApiMethod(name);
      method = name === 'batch' || known ? name : 'unknown';
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      if (!keys.allows(req.headers.authorization)) {
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError(401, 'missing or invalid API key (Authorization: Bearer <key>)');
      }
      if (name !== 'batch' && !known) throw new HttpError(400, `unknown method ${JSON.stringify(name)}`);
      const label = method;
      readJson(req, maxBodyBytes)
        .then((body) => (known ? single(name, body) : batch(body)))
        .then(
          (body) => answer(res, label, started, 200, body),
          (error: unknown) => fail(res, label, started, error),
        );
    } catch (error) {
      fail(res, method, started, error);
    }
  });
  server.requestTimeout = options.requestTimeout * 1000;
  server.headersTimeout = Math.min(server.requestTimeout, 60_000);
  return server;
}

/** A Gateway API call that failed (counted and logged already), its cause answered as the caller needs. */
class CallFailed extends Error {
  constructor(override readonly cause: Error) {
    super(cause?.message);
  }
}

/** The request body as JSON: 413 past `limit` bytes (read no further), 400 when it is not JSON. */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new HttpError(413, `request body over ${limit} bytes`));
  // Events rather than `for await`, whose iterator costs a promise and more per chunk.
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.destroy();
        return reject(new HttpError(413, `request body over ${limit} bytes`));
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const body = chunks ? Buffer.concat(chunks, size) : first;
      try {
        resolve(parseJson(body === undefined ? '' : body.toString('utf8')));
      } catch (error) {
        reject(error);
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('request closed before its body was read'));
    };
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Each schema's compiled check, or null when it has none (acceptsAsIs). */
const asIsChecks = new WeakMap<z.ZodType, AsIsCheck | null>();

/** The value as the schema reads it, or 400 naming the first field that is wrong; zod is asked only when the compiled check is unsure. */
function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  let check = asIsChecks.get(schema);
  if (check === undefined) asIsChecks.set(schema, (check = acceptsAsIs(schema) ?? null));
  if (check?.(value)) return value as z.output<S>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))].join('');
  const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
  throw new HttpError(400, `${field}: ${issue.message}${keys}`);
}
