/** `npm run docs`: writes the settings table into README.md and the values table into the chart's README. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assetPath } from '../../runtime/assets.js';
import { withValuesTable } from './chart-values-table.js';
import { withSettingsTable } from './settings-table.js';

export const readmePath = assetPath('README.md');
export const chartReadmePath = assetPath('charts', 'gateway-cluster', 'README.md');
export const chartValuesPath = assetPath('charts', 'gateway-cluster', 'values.yaml');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(readmePath, withSettingsTable(readFileSync(readmePath, 'utf8')));
  writeFileSync(chartReadmePath, withValuesTable(readFileSync(chartReadmePath, 'utf8'), readFileSync(chartValuesPath, 'utf8')));
  console.log('wrote the settings table into README.md and the values table into charts/gateway-cluster/README.md');
}
