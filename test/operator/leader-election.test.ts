import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../control-plane/net-helpers.js';
import { RoleProcess } from '../harness/role-process.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/gateway-cluster-operator';

describe('two operator processes', () => {
  let fixture: OperatorFixture;
  const processes: RoleProcess[] = [];

  const startOperator = (identity: string, metricsPort = 0) => {
    const args = ['operator', '--metrics-host', '127.0.0.1', '--metrics-port', String(metricsPort), '--identity', identity];
    const operator = new RoleProcess(identity, args, { KUBECONFIG: fixture.controlPlane.kubeconfigPath });
    processes.push(operator);
    return operator;
  };
  const holder = async () => (await fixture.read(leasePath))?.spec?.holderIdentity as string | undefined;

  before(async () => {
    fixture = await OperatorFixture.start();
    await fixture.createNamespace('leader-test');
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await fixture?.stop();
  });

  it('one leads and reconciles; the other takes over when the leader dies', async () => {
    const metricsPort = await freePort();
    const a = startOperator('operator-a', metricsPort);
    await a.waitForLog('became leader', {}, 30_000);
    const b = startOperator('operator-b');
    await b.waitForLog('candidate for leadership', {}, 10_000);
    assert.equal(await holder(), 'operator-a');

    await fixture.createCluster('leader-test', 'first', {});
    await waitFor('the leader to deploy the first cluster', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/leader-test/statefulsets/first-gateway')), 30_000, 200);
    assert.equal(b.hasLog('became leader'), false, 'the standby does not reconcile');

    const endpoint = (path: string) => fetch(`http://127.0.0.1:${metricsPort}${path}`);
    assert.equal((await endpoint('/healthz')).status, 200);
    await waitFor('the leader to be ready (caches synced)', async () => (await endpoint('/readyz')).status === 200, 10_000, 100);
    // The children exist mid-reconcile; the counters move when it ends.
    const metrics = await waitFor('a finished reconcile in the metrics', async () => {
      const text = await (await endpoint('/metrics')).text();
      return /^gwc_operator_reconciles_total\{result="ok"\} [1-9]/m.test(text) ? text : undefined;
    }, 10_000, 100);
    assert.match(metrics, /^gwc_operator_leader 1$/m);
    assert.match(metrics, /^gwc_operator_reconciles_total\{result="ok"\} [1-9]\d*$/m);
    assert.match(metrics, /^gwc_operator_reconcile_duration_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^gwc_operator_queue_depth \d+$/m);

    await a.stop('SIGKILL');
    await b.waitForLog('became leader', {}, 40_000);
    assert.equal(await holder(), 'operator-b');
    await fixture.createCluster('leader-test', 'second', {});
    await waitFor('the new leader to deploy the second cluster', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/leader-test/statefulsets/second-gateway')), 30_000, 200);
  });

  it('hands the lease back on SIGTERM', async () => {
    const b = processes.find((p) => p.label === 'operator-b' && p.alive)!;
    await b.stop('SIGTERM');
    assert.equal(b.exit?.code, 0);
    assert.equal(await holder(), '');
  });
});
