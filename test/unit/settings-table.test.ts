import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { settingsTable, withSettingsTable } from '../../operator/docs/settings-table.js';
import { undescribedValues, withValuesTable } from '../../operator/docs/chart-values-table.js';
import { chartReadmePath, chartValuesPath, readmePath } from '../../operator/docs/write-docs.js';
import { ROLE_SETTINGS } from '../../runtime/config/role-settings.js';

describe('the README\'s settings table', () => {
  it('is what the settings tables generate (run `npm run docs` after changing runtime/config)', () => {
    const readme = readFileSync(readmePath, 'utf8');
    assert.equal(readme, withSettingsTable(readme), 'README.md\'s settings table is stale: run npm run docs');
  });

  it('names every flag of every role, with its variable', () => {
    const table = settingsTable();
    for (const settings of Object.values(ROLE_SETTINGS)) {
      for (const setting of Object.values(settings)) assert.ok(table.includes(`| \`--${setting.flag}\` | \`${setting.env}\` |`), setting.flag);
    }
  });
});

describe('the chart README\'s values table', () => {
  it('is what values.yaml\'s descriptions generate (run `npm run docs` after changing the values)', () => {
    const readme = readFileSync(chartReadmePath, 'utf8');
    assert.equal(readme, withValuesTable(readme, readFileSync(chartValuesPath, 'utf8')), 'the chart README\'s values table is stale: run npm run docs');
  });

  it('describes every value', () => {
    assert.deepEqual(undescribedValues(readFileSync(chartValuesPath, 'utf8')), []);
    assert.deepEqual(undescribedValues('a:\n  # -- described\n  b: 1\n  c: 2\n'), ['a.c'], 'a value without a description is found');
  });
});
