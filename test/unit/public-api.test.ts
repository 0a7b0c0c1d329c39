/** What runtime/index.ts exports is the contract: the Gateway API client carries none of the worker's own methods. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as publicApi from '../../runtime/index.js';
import { WorkerGatewayClient } from '../../runtime/worker/worker-gateway-client.js';

describe('the package\'s public API', () => {
  it('exports GatewayClient without the worker\'s methods, which the worker\'s own client has', () => {
    assert.equal('writeSessionChanges' in publicApi.GatewayClient.prototype, false);
    assert.equal(typeof WorkerGatewayClient.prototype.writeSessionChanges, 'function');
    assert.equal('WorkerGatewayClient' in publicApi, false);
    // Type-level: a user cannot call what only the worker may (the build fails if these become callable).
    const workerOnly = (client: publicApi.GatewayClient) => [
      // @ts-expect-error sendToClientAt is the worker's (protected here)
      () => client.sendToClientAt('10.0.0.1:2900', 'id', 'text'),
      // @ts-expect-error writeSessionChanges is the worker's
      () => client.writeSessionChanges('id', { set: {}, removed: [] }),
    ];
    void workerOnly;
  });

  it('exports the error classes and codes a caller tells failures apart by', () => {
    assert.equal(typeof publicApi.GatewayCommandError, 'function');
    assert.equal(typeof publicApi.GatewayTimeoutError, 'function');
    assert.equal(publicApi.ErrorCode.BadArgument, 1);
  });
});
