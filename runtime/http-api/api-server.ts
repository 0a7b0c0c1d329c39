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

/** A call's answer (its JSON, or its error) for the call at `index` of a batch. */
type Answered<T> = (index: number, answer: T) => void;

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
const errorJson = (message: string | undefined) => JSON.stringify({ error: message });
const resultJson = (result: unknown) => (result === undefined || result === null ? RESULT_NULL : JSON.stringify({ result }));
const INTERNAL_ERROR = errorJson('internal error');

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

  /** The promise of one Gateway API call; a call that throws gives a rejected one. */
  const start = (name: ApiMethodName, args: unknown): Promise<unknown> => {
    try {
      return apiMethods[name].call(api, args);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  /**
   * Follows `pending`, the promise of `count` calls of `name` (more than one: a batch's run of sends that got the same
   * promise), counted, a failure logged: `ok` gets their part of the answer as JSON, `failed` their error, each with
   * `index` (a batch's position of the first of them). Callbacks on the promise rather than async functions, each of
   * which would add a promise and a turn of the microtask queue to every call; `crashed` gets what `ok` or `failed`
   * throw (rather than a .catch: a promise more per call).
   */
  const follow = (name: ApiMethodName, count: number, pending: Promise<unknown>, index: number, ok: Answered<string>, failed: Answered<Error>, crashed: (error: unknown) => void): void => {
    pending.then(
      (result) => {
        calls.inc(name, 'ok', count);
        try {
          ok(index, resultJson(result));
        } catch (error) {
          crashed(error);
        }
      },
      (error: Error) => {
        calls.inc(name, 'error', count);
        log.warn('Gateway API call failed', count === 1 ? { method: name, error } : { method: name, calls: count, error });
        try {
          failed(index, error);
        } catch (thrown) {
          crashed(thrown);
        }
      },
    );
  };

  /** Makes one Gateway API call, followed as `follow` says. */
  const call = (name: ApiMethodName, args: unknown, index: number, ok: Answered<string>, failed: Answered<Error>, crashed: (error: unknown) => void): void =>
    follow(name, 1, start(name, args), index, ok, failed, crashed);

  /** Answers a single call (its arguments wrong: throws the 400): its result, or the status its failure deserves. */
  const single = (res: ServerResponse, started: number, name: ApiMethodName, body: unknown): void => {
    call(
      name,
      parse(apiMethods[name].args, body, 'body'),
      0,
      (_, json) => answer(res, name, started, 200, json),
      (_, error) => answer(res, name, started, callFailureStatus(error), errorJson(error?.message)),
      (error) => fail(res, name, started, error),
    );
  };

  /**
   * Answers a batch (a call or its arguments wrong: throws the 400, no call made): its calls made in order, each once
   * the one before has its answer (the next may rely on it), their results (or errors) in order. A run of sends is
   * made back to back: a send's answer says no more than that its command is queued on its gateway's connection
   * (behind the ones before it), so nothing after it could rely on more; the call after the run waits for all of them.
   */
  const batch = (res: ServerResponse, started: number, body: unknown): void => {
    const entries = parse(batchSchema, body, 'body').calls;
    // Every call is checked before any is made: a batch with a bad call does nothing.
    const names: ApiMethodName[] = new Array<ApiMethodName>(entries.length);
    const args: unknown[] = new Array<unknown>(entries.length);
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      if (!isApiMethod(entry.method)) throw new HttpError(400, `calls[${index}].method: unknown method ${JSON.stringify(entry.method)}`);
      names[index] = entry.method;
      args[index] = parseArgs(entry.method, entry.args ?? {}, index);
    }
    /** Each call's part of the answer, as JSON. */
    const results: string[] = new Array<string>(names.length);
    /** Calls made so far, and the calls or runs of sends without their answer yet. */
    let made = 0;
    let open = 0;
    /** Calls index..index+count-1 answered, all alike. */
    const done = (index: number, json: string, count = 1) => {
      results.fill(json, index, index + count);
      if (--open === 0) next();
    };
    const failed = (index: number, error: Error) => done(index, errorJson(error?.message));
    const crashed = (error: unknown) => fail(res, 'batch', started, error);
    /** Calls first..first+count-1, sends of one method that got the same promise, answered as one. */
    const sent = (name: ApiMethodName, first: number, count: number, pending: Promise<unknown>) => {
      open++;
      follow(name, count, pending, first, (index, json) => done(index, json, count), (index, error) => done(index, errorJson(error?.message), count), crashed);
    };
    /**
     * Makes the run of sends from `made` on. Each send's promise says its command is queued; the sends of a gateway
     * that keeps up all get the same one (and those of a gateway not keeping up, that gateway's one), so a stretch of
     * calls of one method with the same promise waits on it once, not with a promise and closures of its own each.
     */
    const sendRun = (): void => {
      let name = names[made]!;
      let first = made;
      let pending: Promise<unknown> | undefined;
      for (; made < names.length && apiMethods[names[made]!].send === true; made++) {
        const method = names[made]!;
        const promise = start(method, args[made]);
        if (promise === pending && method === name) continue;
        if (pending !== undefined) sent(name, first, made - first, pending);
        name = method;
        first = made;
        pending = promise;
      }
      sent(name, first, made - first, pending!);
    };
    const next = (): void => {
      if (made < names.length) {
        if (apiMethods[names[made]!].send === true) return sendRun();
        open++;
        return call(names[made]!, args[made], made++, done, failed, crashed);
      }
      answer(res, 'batch', started, 200, `{"results":[${results.join(',')}]}`);
    };
    next();
  };

  const answer = (res: ServerResponse, method: string, started: number, status: number, body: string) => {
    requests.inc(method, status);
    duration.seriesOf(method).observe((performance.now() - started) / 1000);
    if (status === 413 || status === 401) res.setHeader('connection', 'close');
    // With its length, the answer leaves with its headers as one piece of text (without, Node sends it chunked: five pieces more).
    res.writeHead(status, ['content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(body))]).end(body);
  };
  const fail = (res: ServerResponse, method: string, started: number, error: unknown) => {
    if (error instanceof HttpError) return answer(res, method, started, error.status, errorJson(error.message));
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
      readJson(req, maxBodyBytes, (error, body) => {
        if (error !== undefined) return fail(res, name, started, error);
        try {
          if (known) single(res, started, name, body);
          else batch(res, started, body);
        } catch (failed) {
          fail(res, name, started, failed);
        }
      });
    } catch (error) {
      fail(res, method, started, error);
    }
  });
  server.requestTimeout = options.requestTimeout * 1000;
  server.headersTimeout = Math.min(server.requestTimeout, 60_000);
  return server;
}

/**
 * Reads the request body and hands it to `done` as JSON, or the error: 413 past `limit` bytes (read no further), 400
 * when it is not JSON. Listeners that stay rather than a promise and listeners taken off again: after `done` the
 * request's remaining events find it done already.
 */
function readJson(req: IncomingMessage, limit: number, done: (error: unknown, body?: unknown) => void): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return done(new HttpError(413, `request body over ${limit} bytes`));
  let settled = false;
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  const settle = (error: unknown, body?: unknown) => {
    if (settled) return;
    settled = true;
    done(error, body);
  };
  req.on('data', (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limit) {
      req.destroy();
      return settle(new HttpError(413, `request body over ${limit} bytes`));
    }
    if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  });
  req.on('end', () => {
    if (settled) return;
    const body = chunks ? Buffer.concat(chunks, size) : first;
    let parsed: unknown;
    try {
      parsed = parseJson(body === undefined ? '' : body.toString('utf8'));
    } catch (error) {
      return settle(error);
    }
    settle(undefined, parsed);
  });
  req.on('error', (error: Error) => settle(error));
  // 'close' comes after 'end' too: the Error (and its stack) only when it comes first.
  req.on('close', () => {
    if (!settled) settle(new Error('request closed before its body was read'));
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

function asIsCheckOf(schema: z.ZodType): AsIsCheck | null {
  let check = asIsChecks.get(schema);
  if (check === undefined) asIsChecks.set(schema, (check = acceptsAsIs(schema) ?? null));
  return check;
}

/** Each method's arguments' compiled check (asked once per call of a batch). */
const argsChecks = new Map<ApiMethodName, AsIsCheck | null>();

/** The arguments of a batch's call `index` as its method reads them, or 400 naming the call and the field that is wrong. */
function parseArgs(name: ApiMethodName, value: unknown, index: number): unknown {
  let check = argsChecks.get(name);
  if (check === undefined) argsChecks.set(name, (check = asIsCheckOf(apiMethods[name].args)));
  // The place named in an error is made only for an error: a string made per call otherwise.
  return check?.(value) ? value : parse(apiMethods[name].args, value, `calls[${index}].args`);
}

/** The value as the schema reads it, or 400 naming the first field that is wrong; zod is asked only when the compiled check is unsure. */
function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  if (asIsCheckOf(schema)?.(value)) return value as z.output<S>;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [where, ...issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))].join('');
  const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
  throw new HttpError(400, `${field}: ${issue.message}${keys}`);
}
