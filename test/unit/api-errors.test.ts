/**
 * A Gateway API call that fails is answered over HTTP as its cause deserves. The server, its routing and answers are
 * real; the cluster behind it is a fake GatewayApi that fails as told (how real gateways fail is tested in
 * process/partial-cluster and process/sessions).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callFailureStatus } from '../../runtime/http-api/call-status.js';
import type { GatewayApi } from '../../runtime/gateway-api/gateway-api.js';
import { GatewayCommandError, GatewayLostError, GatewayTimeoutError } from '../../runtime/gateway-api/gateway-errors.js';
import { ErrorCode } from '../../runtime/wire/types.js';
import { listenApi, postApi } from '../harness/http-api.js';

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
  let server: Awaited<ReturnType<typeof listenApi>>;

  before(async () => {
    server = await listenApi(api);
  });
  after(() => server.close());

  const post = (path: string, body: unknown) => postApi(server.base, path, body);

  for (const [what, error, status] of CASES) {
    it(`answers ${status} with the message for ${what}; in a batch, the message`, async () => {
      failWith = error;
      assert.deepEqual(await post('getAllClientCount', {}), { status, body: { error: error.message } });
      assert.deepEqual(await post('batch', { calls: [{ method: 'getAllClientCount' }] }), { status: 200, body: { results: [{ error: error.message }] } });
    });
  }
});
