/**
 * The HTTP API's compiled checks (accepts-as-is.ts) let a request skip zod only for what zod accepts unchanged:
 * run over every method's schema with good and bad arguments, a check never says yes where zod says no or would
 * give back something else, and says yes to the common good calls (the point of having it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { acceptsAsIs } from '../../runtime/http-api/accepts-as-is.js';
import { apiMethods, batchSchema } from '../../runtime/http-api/api-methods.js';

const CLIENT = '7f00270a0b5400000001';
const deep = (levels: number): unknown => (levels === 0 ? {} : { a: deep(levels - 1) });
const VALUES: unknown[] = [
  null, undefined, 0, 5, '', 'x', true, [], [1], ['u1'], [''], {}, [{}], Object.create(null),
  { uid: 'u1', message: 'hello' }, { uid: ['u1', 'u2'], message: 'hi' }, { uid: [], message: 'x' }, { uid: '', message: 'x' },
  { uid: 5, message: 'x' }, { uid: 'u1' }, { uid: 'u1', message: 'x', extra: 1 }, { uid: 'u1', message: 'aGk=', binary: true },
  { uid: 'u1', message: '***', binary: true }, { uid: 'u1', message: 'x', binary: 'yes' }, { uid: 'u1', message: 'x', binary: false },
  JSON.parse('{"uid":"u1","message":"x","__proto__":{"binary":true}}'),
  { clientId: CLIENT, message: 'x' }, { clientId: 'not-hex', message: 'x' }, { clientId: CLIENT }, { clientId: CLIENT, uid: 'u' },
  { clientId: CLIENT, message: '***', binary: true }, { clientId: CLIENT, session: { a: 1 } }, { clientId: CLIENT, session: [1] },
  { clientId: CLIENT, session: deep(40) }, { clientId: CLIENT, session: deep(3) },
  { group: 'g', message: 'x' }, { group: ['g', 'h'] }, { group: [] }, { group: 'g', message: 'x', excludeClientIds: [CLIENT] },
  { group: 'g', message: 'x', excludeClientIds: null }, { group: 'g', message: 'x', excludeClientIds: ['nope'] },
  { message: 'x', clientIds: [CLIENT], excludeClientIds: null }, { message: 'x', clientIds: null }, { uids: ['a'] }, { uids: [] }, { groups: ['g'] },
  { calls: [{ method: 'sendToUid', args: { uid: 'u1', message: 'x' } }] }, { calls: [] }, { calls: [{ method: 'x', args: [] }] },
  { calls: [{ method: 'x', extra: 1 }] }, { calls: Array.from({ length: 1001 }, () => ({ method: 'x' })) },
];

const schemas: Array<[string, z.ZodType]> = [...Object.entries(apiMethods).map(([name, method]) => [name, method.args] as [string, z.ZodType]), ['batch', batchSchema]];

describe('the HTTP API\'s compiled argument checks', () => {
  for (const [name, schema] of schemas) {
    it(`${name}: never accepts what zod refuses or would change`, () => {
      const check = acceptsAsIs(schema);
      for (const value of VALUES) {
        if (!check?.(value)) continue;
        const result = schema.safeParse(value);
        assert.ok(result.success, `${name} accepted ${JSON.stringify(value)}, which zod refuses`);
        assert.deepEqual(result.data, value, `${name} accepted ${JSON.stringify(value)}, which zod gives back changed`);
      }
    });
  }

  it('accepts the common calls without zod', () => {
    const accepted = (name: keyof typeof apiMethods, value: unknown) => acceptsAsIs(apiMethods[name].args)?.(value) === true;
    assert.ok(accepted('sendToUid', { uid: 'u1', message: 'hello' }));
    assert.ok(accepted('sendToUid', { uid: ['u1', 'u2'], message: 'aGk=', binary: true }));
    assert.ok(accepted('sendToClient', { clientId: CLIENT, message: 'hello' }));
    assert.ok(accepted('sendToGroup', { group: 'g', message: 'hello', excludeClientIds: [CLIENT] }));
    assert.ok(accepted('sendToAll', { message: 'hello' }));
    assert.ok(accepted('bindUid', { clientId: CLIENT, uid: 'u1' }));
    assert.ok(accepted('setSession', { clientId: CLIENT, session: { a: 1 } }));
    assert.ok(acceptsAsIs(batchSchema)?.({ calls: [{ method: 'sendToUid', args: { uid: 'u1', message: 'x' } }] }));
  });

  it('leaves to zod what it cannot judge: a superRefine, a transform', () => {
    assert.equal(acceptsAsIs(z.strictObject({ a: z.string() }).superRefine(() => {})), undefined);
    assert.equal(acceptsAsIs(z.string().transform((s) => s.length)), undefined);
    assert.equal(acceptsAsIs(z.object({ a: z.string() })), undefined, 'a non-strict object drops unknown keys');
  });
});
