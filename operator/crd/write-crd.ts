/** `npm run crd`: writes the generated CRD to crds/ (and the chart's copy is that same file). */
import yaml from 'js-yaml';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayClusterCrd } from './gateway-cluster-crd.js';

export const crdPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../crds/gatewaycluster.dev_gatewayclusters.yaml');

export function renderCrd(): string {
  return `# Generated from operator/spec by \`npm run crd\`; do not edit by hand.\n${yaml.dump(gatewayClusterCrd(), { noRefs: true, lineWidth: 120 })}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(crdPath, renderCrd());
  console.log(`wrote ${path.relative(process.cwd(), crdPath)}`);
}
