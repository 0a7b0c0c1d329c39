import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpPool } from './ip-pool.js';

describe('the pod IP pool', () => {
  it('hands out distinct addresses in order, skips held ones after wrapping, and reuses none while held', () => {
    const pool = new IpPool('127.101');
    assert.equal(pool.nodeIp, '127.101.0.0');
    const first = Array.from({ length: 300 }, () => pool.allocate());
    assert.equal(first[0], '127.101.0.1');
    assert.equal(first[255], '127.101.1.0');
    assert.equal(new Set(first).size, 300);
    pool.release('127.101.0.5');
    // Released addresses are not handed out again before the pool wraps around.
    assert.equal(pool.allocate(), '127.101.1.45');
    assert.equal(pool.isHeld('127.101.0.5'), false);
  });

  it('refuses an ipBase that is not two loopback octets', () => {
    for (const bad of ['10.1', '127', '127.1.2', '127.300']) assert.throws(() => new IpPool(bad), /ipBase/);
  });
});
