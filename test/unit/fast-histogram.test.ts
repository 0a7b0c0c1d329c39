import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../runtime/observability/fast-histogram.js';

describe('FastHistogram', () => {
  it('exposes what prom-client\'s Histogram does for the same observations', async () => {
    const buckets = [0.001, 0.01, 0.1, 1, 10];
    const reference = new Registry();
    const fast = new Registry();
    for (const registry of [reference, fast]) registry.setDefaultLabels({ role: 'worker' });
    const slow = new Histogram({ name: 'x_seconds', help: 'how long', buckets, registers: [reference] });
    const quick = new FastHistogram('x_seconds', 'how long', buckets, fast);
    const emptyReference = await reference.metrics();
    assert.equal(await fast.metrics(), emptyReference, 'before any observation');
    for (const value of [0, 0.0005, 0.001, 0.002, 0.05, 0.5, 0.5, 3, 10, 11, 1e6]) {
      slow.observe(value);
      quick.observe(value);
    }
    assert.equal(await fast.metrics(), await reference.metrics());
    assert.match(await fast.metrics(), /^x_seconds_bucket\{le="0.01",role="worker"\} 4$/m);
  });

  it('exposes what prom-client\'s Histogram with a label does, as text and as JSON', async () => {
    const buckets = [0.001, 0.01, 0.1];
    const reference = new Registry();
    const fast = new Registry();
    for (const registry of [reference, fast]) registry.setDefaultLabels({ role: 'api' });
    const slow = new Histogram({ name: 'y_seconds', help: 'how long', labelNames: ['method'], buckets, registers: [reference] });
    const quick = new FastHistogram('y_seconds', 'how long', buckets, fast, 'method');
    assert.equal(await fast.metrics(), await reference.metrics(), 'before any observation');
    for (const [method, value] of [['a', 0.0005], ['b', 0.05], ['a', 0.002], ['b', 2], ['a', 0.001]] as const) {
      slow.observe({ method }, value);
      quick.seriesOf(method).observe(value);
    }
    assert.equal(await fast.metrics(), await reference.metrics());
    // prom-client's samples also carry an exemplar (null: none was given), which a FastHistogram has not.
    const withoutExemplars = (metrics: object[]) =>
      (metrics as Array<{ values: Array<Record<string, unknown>> }>).map((m) => ({ ...m, values: m.values.map(({ exemplar: _, ...v }) => v) }));
    assert.deepEqual(withoutExemplars(await fast.getMetricsAsJSON()), withoutExemplars(await reference.getMetricsAsJSON()));
    assert.match(await fast.metrics(), /^y_seconds_bucket\{le="0.01",role="api",method="a"\} 3$/m);
  });
});
