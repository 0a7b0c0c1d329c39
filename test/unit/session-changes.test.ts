import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applySessionChanges, sessionChanges } from '../../runtime/worker/session-changes.js';

describe('what a callback did to its session', () => {
  it('is the top-level keys it set, changed or removed; nothing when it left the session as given', () => {
    assert.equal(sessionChanges({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }), undefined);
    assert.deepEqual(sessionChanges({ a: 1, b: { c: 2 }, gone: true }, { a: 2, b: { c: 2 }, fresh: [1], undef: undefined }), {
      set: { a: 2, fresh: [1] },
      removed: ['gone'],
    });
    assert.deepEqual(sessionChanges({ b: { c: 2 } }, { b: { c: 3, d: 4 } }), { set: { b: { c: 3, d: 4 } }, removed: [] }, 'a changed value is written whole');
  });

  it('applies onto the session as it is by then, keeping the keys others wrote', () => {
    const changes = sessionChanges({ seen: 1, gone: 'x' }, { seen: 2 })!;
    assert.deepEqual(applySessionChanges({ seen: 1, gone: 'x', byApi: true }, changes), { seen: 2, byApi: true });
  });
});
