/**
 * A Gateway API call that fails is answered over HTTP as its cause deserves. The server, its routing and answers are
 * real; the cluster behind it is a fake GatewayApi that fails as told (how real gateways fail is tested in
 * process/partial-cluster and process/sessions).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { ApiKeys } from '../../runtime/http-api/api-keys.js';
import { createApiServer } from '../../runtime/http-api/api-server.js';
import { callFailureStatus } from '../../runtime/http-api/call-status.js';
import type { GatewayApi } from '../../runtime/gateway-api/gateway-api.js';
import { GatewayCommandError, GatewayLostError, GatewayTimeoutError } from '../../runtime/gateway-api/gateway-errors.js';
import { createLogger } from '../../runtime/observability/log.js';
import { ErrorCode } from '../../runtime/wire/types.js';

const KEY = 'unit-test-api-key-0123456789';

const CASES: Array<[string, Error, number]> = [
  ['a gateway refusing an argument', new GatewayCommandError(ErrorCode.BadArgument, 'session must be a JSON object'), 400],
  ['a gateway saying what it names does not exist', new GatewayCommandError(ErrorCode.NotFound, 'no such thing'), 404],
  ['a gateway that does not know the op', new GatewayCommandError(ErrorCode.UnknownOp, 'unknown command op 99'), 502],
  ['an answer too large', new GatewayCommandError(ErrorCode.TooLarge, 'one entry of the answer is too large'), 502],
  ['a gateway failing', new GatewayCommandError(ErrorCode.Internal, 'boom'), 502],
  ['a gateway older than error codes', new GatewayCommandError(ErrorCode.Unspecified, 'it failed'), 502],
  ['a gateway too slow', new GatewayTimeoutError('gateway 10.0.0.1:2900 did not answer within 5000 ms'), 504],
  ['a gateway lost', new GatewayLostError('10.0.0.1:2900'), 502],
  ['anything else', new Error('no gateway list from register'), 502],
];

describe('the HTTP status of a failed Gateway API call', () => {
  for (const [what, error, status] of CASES) {
    it(`is ${status} for ${what}`, () => assert.equal(callFailureStatus(error), status));
  }
});

describe('the HTTP API answering a failed call', () => {
  let failWith: Error = new Error('unset');
  const api = new Proxy({} as GatewayApi, { get: () => () => Promise.reject(failWith) });
  const log = createLogger({ role: 'unit-test' }, 'error', () => {});
  let server: Server;
  let base = '';

  before(async () => {
    server = createApiServer({ api, keys: new ApiKeys([KEY], undefined, log), maxBodyBytes: 1 << 16, requestTimeout: 10, log, registry: new Registry() });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { error?: string; results?: Array<{ error?: string }> } };
  };

  for (const [what, error, status] of CASES) {
    it(`answers ${status} with the message for ${what}; in a batch, the message`, async () => {
      failWith = error;
      assert.deepEqual(await post('getAllClientCount', {}), { status, body: { error: error.message } });
      assert.deepEqual(await post('batch', { calls: [{ method: 'getAllClientCount' }] }), { status: 200, body: { results: [{ error: error.message }] } });
    });
  }
});
