import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FALLBACK_MAX_CONNECTIONS, connectionLimits, fileLimitFor, reservedDescriptors } from '../../runtime/gateway/connection-limits.js';

describe('connection limits from the open-file limit', () => {
  it('keeps a tenth of the descriptors back, at least 64 and at most 1024', () => {
    assert.equal(reservedDescriptors(400), 64);
    assert.equal(reservedDescriptors(5000), 500);
    assert.equal(reservedDescriptors(20_000), 1024);
    assert.equal(reservedDescriptors(1_048_576), 1024);
  });

  it('takes as many clients as fit by default, and lowers a requested limit that does not fit', () => {
    assert.deepEqual(connectionLimits(undefined, 20_000), { clients: 18_976, sockets: 18_976 + 512 });
    assert.deepEqual(connectionLimits(5000, 20_000), { clients: 5000, sockets: 5000 + 512 });
    assert.deepEqual(connectionLimits(100_000, 20_000), { clients: 18_976, sockets: 18_976 + 512, lowered: { requested: 100_000, fileLimit: 20_000 } });
  });

  it('without a readable limit: what was asked, or the fallback', () => {
    assert.deepEqual(connectionLimits(undefined, undefined), { clients: FALLBACK_MAX_CONNECTIONS, sockets: undefined });
    assert.deepEqual(connectionLimits(7, Infinity), { clients: 7, sockets: undefined });
  });

  it('fileLimitFor gives the smallest limit that takes that many clients', () => {
    for (const clients of [336, 10_000, 100_000]) {
      const limit = fileLimitFor(clients);
      assert.equal(connectionLimits(undefined, limit).clients >= clients, true);
      assert.equal(connectionLimits(undefined, limit - 1).clients < clients, true);
    }
  });
});
