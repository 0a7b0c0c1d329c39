/** The chart as users get it from a registry: `helm package`d into an archive (the CRD inside, not a link). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';

export const chartDir = path.join(repoRoot, 'charts/gateway-cluster');

/** Packages the chart into a fresh folder; returns the archive's path. */
export function packageChart(): string {
  const out = mkdtempSync(path.join(tmpdir(), 'gwc-chart-'));
  const said = execFileSync(ensureBinaries().helm, ['package', chartDir, '--destination', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const archive = /saved it to: (\S+\.tgz)/.exec(said)?.[1];
  if (!archive) throw new Error(`helm package said: ${said}`);
  return archive;
}
