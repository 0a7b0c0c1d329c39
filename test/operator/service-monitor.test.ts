import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import { ensureBinaries } from '../control-plane/binaries.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

/**
 * prometheus-operator's ServiceMonitor kind, reduced to a schema that keeps every field: a stand-in for that
 * project's CRD (not vendored here), enough for the operator to see the kind is served and to write one.
 */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor', listKind: 'ServiceMonitorList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

const ns = 'monitoring-test';
const monitorPath = `/apis/monitoring.coreos.com/v1/namespaces/${ns}/servicemonitors/shop`;

describe('ServiceMonitor when its CRD is installed', () => {
  let fixture: OperatorFixture;
  let controller: Controller;

  before(async () => {
    fixture = await OperatorFixture.start();
    execFileSync(ensureBinaries().kubectl, ['--kubeconfig', fixture.controlPlane.kubeconfigPath, 'apply', '-f', '-'], { input: JSON.stringify(SERVICE_MONITOR_CRD) });
    await fixture.waitForCrd('servicemonitors.monitoring.coreos.com');
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('creates one when asked, selecting the metrics ports, and deletes it when no longer asked', async () => {
    await fixture.createCluster(ns, 'shop', { metrics: { serviceMonitor: { enabled: true, interval: '15s' } } });
    const monitor = await waitFor('the ServiceMonitor', () => fixture.read(monitorPath), 30_000, 200);
    assert.equal(monitor.metadata.ownerReferences[0].kind, 'GatewayCluster');
    assert.deepEqual(monitor.spec.endpoints.map((e: { port: string; interval?: string }) => [e.port, e.interval]), [['metrics', '15s']]);
    assert.equal(monitor.spec.selector.matchLabels['app.kubernetes.io/instance'], 'shop');

    await fixture.patchCluster(ns, 'shop', { spec: { metrics: { serviceMonitor: { enabled: false } } } });
    await waitFor('the ServiceMonitor to be deleted', async () => (await fixture.read(monitorPath)) === undefined, 30_000, 200);
  });
});
