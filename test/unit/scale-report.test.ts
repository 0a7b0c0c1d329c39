import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatScale } from '../bench/scale-report.js';
import type { ScaleConfig, ScaleRun, StageResult } from '../bench/scale-scenario.js';

const config: ScaleConfig = { connections: 2048, holders: 2, workers: 2, stages: [1], size: 64, probeClients: 20, probeMs: 3000, settleTimeoutMs: 180_000 };
const holder = (settled: boolean) => ({ settled, majorGcs: settled ? 1 : 0, newSpace: 1 << 20, watchedSeconds: 90 });
const stage = (settled: boolean[]): StageResult => ({
  connections: 2048, acceptsPerSecond: [500, 500], rssPerConnection: 5000, settledRssPerConnection: settled.some(Boolean) ? 4096 : NaN,
  holders: settled.map(holder), cpu: { holder: 0.1, generator: 0.1, machine: 1 },
});
const run = (settled: boolean[], storm: Partial<ScaleRun['storm']> = {}): ScaleRun => ({
  stages: [stage(settled)],
  broadcast: { firstMs: 1, lastMs: 2 },
  storm: { clients: 1024, holderBackSeconds: 1, allBackSeconds: 10, p99BeforeMs: 1, p99DuringMs: 2, ...storm },
});

describe('the scale report', () => {
  it('shows RSS per connection over the settled holders with their count, all holders beside, and names each that did not settle', () => {
    const text = formatScale({ gwc: run([true, false]), plain: run([true, true]) }, config);
    assert.match(text, /4\.00 KiB from the 1 of 2 settled; all: 4\.88 KiB/);
    assert.match(text, /4\.00 KiB \(all 2 settled\)/);
    assert.match(text, /note: GWC at 2,048: holder\(s\) 1 \(0 mark-compacts after the stage, young generation 1 MiB\) did not settle/);
    assert.doesNotMatch(text, /note: plain/);
  });

  it('a storm that could not be measured is said so, and the stages are still reported', () => {
    const text = formatScale({ gwc: run([true, true], { failed: 'timed out after 120000 ms\nmore', allBackSeconds: NaN }), plain: run([true, true]) }, config);
    assert.match(text, /GWC: {3}1,024 clients; NOT MEASURED: timed out after 120000 ms$/m);
    assert.match(text, /plain: 1,024 clients; holder up again after 1\.00 s/);
  });
});
