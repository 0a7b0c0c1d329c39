/**
 * The chart's alerts and dashboard name only metrics that the processes really export: every metric in their
 * expressions is found in what a running Register, Gateway and Worker (and the operator's registry) serve.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { OperatorMetrics } from '../../operator/controller/operator-metrics.js';
import { repoRoot } from '../control-plane/binaries.js';
import { clusterForSuite } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';

const chart = path.join(repoRoot, 'charts/gateway-cluster');
/** Series Prometheus makes itself, not read from a target. */
const PROMETHEUS_OWN = new Set(['up']);

/** Every sample name in a Prometheus text exposition. */
function sampleNames(exposition: string): string[] {
  return exposition
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
}

/** Metric names in PromQL expressions: identifiers followed by a selector, a range or the end of an aggregation. */
function metricsIn(expressions: string[]): string[] {
  // Grouping clauses and label_values' label name hold label names, not metrics.
  const bare = expressions.map((expr) => expr.replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/,\s*[a-z_][a-z0-9_]*\s*\)/g, ')'));
  const names = bare.flatMap((expr) => [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\))/g)].map((m) => m[1]!));
  const functions = new Set(['sum', 'max', 'rate', 'histogram_quantile', 'by', 'label_values']);
  return [...new Set(names.filter((name) => !functions.has(name) && name.includes('_')))];
}

describe('the chart\'s alerts and dashboard', () => {
  const cluster = clusterForSuite({});

  it('use only metrics the runtime and the operator export', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('hello');
    await client.next((m) => m === 'hello'); // a handled event: the handler histogram has samples
    client.close();

    const scrapes = await Promise.all([cluster.ip(1), cluster.gatewayIp(0), cluster.ip(20)].map(async (host, i) => {
      const response = await fetch(`http://${host}:${[9236, 9272, 9300][i]}/metrics`);
      return response.text();
    }));
    const operator = new OperatorMetrics(() => 0, () => 0);
    operator.reconciles.inc({ result: 'error' }, 0); // a labelled counter shows once it has a series
    const exported = new Set([...scrapes.flatMap(sampleNames), ...sampleNames(await operator.registry.metrics()), ...PROMETHEUS_OWN]);

    const rules = readFileSync(path.join(chart, 'templates/prometheusrule.yaml'), 'utf8');
    const ruleExpressions = [...rules.matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1]!);
    const dashboard = JSON.parse(readFileSync(path.join(chart, 'dashboards/gateway-cluster.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      templating: { list: Array<{ query: unknown }> };
    };
    const panelExpressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    const variableQueries = dashboard.templating.list.map((variable) => variable.query).filter((query): query is string => typeof query === 'string' && query.includes('('));

    assert.equal(ruleExpressions.length, 4, 'four alerts');
    assert.ok(panelExpressions.length >= 6);
    const used = metricsIn([...ruleExpressions, ...panelExpressions, ...variableQueries]);
    for (const metric of ['gwc_gateway_connections', 'gwc_worker_handler_duration_seconds_bucket', 'process_resident_memory_bytes', 'gwc_operator_reconciles_total']) {
      assert.ok(used.includes(metric), `${metric} is used (the parser finds names)`);
    }
    assert.deepEqual(used.filter((metric) => !exported.has(metric)), [], 'metrics nothing exports');
  });
});
