import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expand, mappingFor } from './expansion.js';

describe('$(VAR) expansion (the kubelet\'s rules)', () => {
  const lookup = mappingFor({ VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' });
  const cases: Array<[string, string]> = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['foo\\$(VAR_C)bar', 'foo\\Cbar'],
    ['$(VAR_EMPTY)', ''],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['foo$$$$bar', 'foo$$bar'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['$(VAR_A)$', 'A$'],
    ['$()', '$()'],
    ['plain', 'plain'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(expand(input, lookup), expected));
  }

  it('searches the contexts in order', () => {
    const lookup2 = mappingFor(new Map([['X', 'first']]), { X: 'second', Y: 'y' });
    assert.equal(expand('$(X)/$(Y)', lookup2), 'first/y');
  });
});
