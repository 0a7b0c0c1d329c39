/** GatewayClient's request correlation, in-process: answers matched by id, pages merged, and every way a request fails. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayCommandError, GatewayLostError, GatewayTimeoutError } from '../../runtime/gateway-api/gateway-errors.js';
import { PendingRequests } from '../../runtime/gateway-api/pending-requests.js';
import { ErrorCode } from '../../runtime/wire/types.js';

const LONG_MS = 60_000;

describe('pending Gateway API requests', () => {
  it('resolves each request with its own answer, whatever order the answers come in, and drops an answer nobody asked for', async () => {
    const requests = new PendingRequests(LONG_MS);
    const first = requests.open('10.0.0.1:2900');
    const second = requests.open('10.0.0.2:2900');
    assert.notEqual(first.requestId, second.requestId);
    requests.settle({ requestId: 999_999, ids: ['stray'] });
    requests.settle({ requestId: second.requestId, ids: ['b'] });
    requests.settle({ requestId: first.requestId, ids: ['a'] });
    assert.deepEqual(await first.reply, { requestId: first.requestId, ids: ['a'] });
    assert.deepEqual(await second.reply, { requestId: second.requestId, ids: ['b'] });
  });

  it('merges an answer that comes in pages once the last is in', async () => {
    const requests = new PendingRequests(LONG_MS);
    const { requestId, reply } = requests.open('10.0.0.1:2900');
    requests.settle({ requestId, partial: true, ids: ['a', 'b'] });
    requests.settle({ requestId, partial: true, ids: ['c'] });
    requests.settle({ requestId, ids: ['d'] });
    assert.deepEqual((await reply)?.ids, ['a', 'b', 'c', 'd']);
  });

  it('fails with the gateway\'s error code, with a timeout, with a lost gateway (its requests only) and on closing', async () => {
    const requests = new PendingRequests(LONG_MS);
    const refused = requests.open('10.0.0.1:2900');
    requests.settle({ requestId: refused.requestId, error: 'no such op', errorCode: ErrorCode.UnknownOp });
    await assert.rejects(refused.reply, (error) => error instanceof GatewayCommandError && error.code === ErrorCode.UnknownOp && error.message === 'no such op');

    const lost = requests.open('10.0.0.1:2900');
    const elsewhere = requests.open('10.0.0.2:2900');
    requests.gatewayLost('10.0.0.1:2900');
    await assert.rejects(lost.reply, GatewayLostError);
    requests.settle({ requestId: elsewhere.requestId, count: 3 });
    assert.equal((await elsewhere.reply)?.count, 3);

    const closing = requests.open('10.0.0.2:2900');
    requests.failAll(new Error('gateway client closed'));
    await assert.rejects(closing.reply, /gateway client closed/);

    const late = new PendingRequests(20).open('10.0.0.3:2900');
    await assert.rejects(late.reply, (error) => error instanceof GatewayTimeoutError && /10\.0\.0\.3:2900 did not answer within 20 ms/.test(error.message));
  });

  it('fails an answer paged without end (a gateway is trusted to page, not to page for ever)', async () => {
    const requests = new PendingRequests(LONG_MS);
    const { requestId, reply } = requests.open('10.0.0.1:2900');
    for (let page = 0; page <= 1024; page++) requests.settle({ requestId, partial: true, ids: [String(page)] });
    await assert.rejects(reply, /sent an answer in more than 1024 pages/);
  });
});
