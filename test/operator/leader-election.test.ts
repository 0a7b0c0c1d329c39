import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LeaderElection } from '../../operator/controller/leader-election.js';
import { KubeClient } from '../../operator/kube/kube-client.js';
import { createLogger } from '../../runtime/observability/log.js';
import { freePort } from '../control-plane/net-helpers.js';
import { RoleProcess } from '../harness/role-process.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const leasePath = '/apis/coordination.k8s.io/v1/namespaces/default/leases/gateway-cluster-operator';

describe('two operator processes', () => {
  let fixture: OperatorFixture;
  const processes: RoleProcess[] = [];

  const startOperator = (identity: string, metricsPort = 0, extraArgs: string[] = []) => {
    const args = ['operator', '--metrics-host', '127.0.0.1', '--metrics-port', String(metricsPort), '--identity', identity, ...extraArgs];
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
    await a.waitForEvent('leader-elected', {}, 30_000);
    const b = startOperator('operator-b');
    await b.waitForEvent('leader-candidate', {}, 10_000);
    assert.equal(await holder(), 'operator-a');

    await fixture.createCluster('leader-test', 'first', {});
    await waitFor('the leader to deploy the first cluster', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/leader-test/statefulsets/first-gateway')), 30_000, 200);
    assert.equal(b.hasEvent('leader-elected'), false, 'the standby does not reconcile');

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
    await b.waitForEvent('leader-elected', {}, 40_000);
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

  it('a leader paused past its renew deadline (SIGSTOP) is replaced, and once resumed stops without writing', async () => {
    const timing = ['--lease-duration', '4', '--renew-deadline', '2.5', '--retry-period', '0.5'];
    const c = startOperator('operator-c', 0, timing);
    await c.waitForEvent('leader-elected', {}, 30_000);
    const d = startOperator('operator-d', 0, timing);
    await d.waitForEvent('leader-candidate', {}, 10_000);
    await fixture.createCluster('leader-test', 'third', {});
    await waitFor('the leader to deploy the third cluster', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/leader-test/statefulsets/third-gateway')), 30_000, 200);

    process.kill(c.pid, 'SIGSTOP');
    let resumedAt = 0;
    try {
      await d.waitForEvent('leader-elected', {}, 30_000);
      // Work the paused leader will find in its watches when it wakes: a new cluster, and a change to an old one.
      await fixture.createCluster('leader-test', 'fourth', {});
      await fixture.patchCluster('leader-test', 'third', { spec: { gateway: { replicas: 2 } } });
      await waitFor('the new leader to deploy the fourth cluster', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/leader-test/statefulsets/fourth-gateway')), 30_000, 200);
    } finally {
      resumedAt = Date.now();
      process.kill(c.pid, 'SIGCONT');
    }
    await waitFor('the old leader to exit', () => c.exit, 15_000);
    assert.equal(c.exit!.code, 1);
    assert.ok(c.hasEvent('leader-lost'));

    const writes = fixture.controlPlane.auditedWrites();
    const byC = writes.filter((w) => w.userAgent.startsWith('gateway-cluster-operator/operator-c'));
    const byD = writes.filter((w) => w.userAgent.startsWith('gateway-cluster-operator/operator-d'));
    assert.ok(byC.length > 0 && byD.length > 0, 'the audit log tells the two processes apart');
    const afterResume = byC.filter((w) => w.receivedAt >= resumedAt);
    assert.deepEqual(afterResume, [], 'the resumed leader wrote nothing');
    // Overlap: the new leader's first write (taking the Lease) came after the old leader's last one.
    const lastOfC = Math.max(...byC.map((w) => w.receivedAt));
    const firstOfD = Math.min(...byD.map((w) => w.receivedAt));
    console.log(`leader overlap: old leader's last write ${firstOfD - lastOfC} ms before the new leader's first; writes after SIGCONT: ${afterResume.length}`);
    assert.ok(lastOfC < firstOfD, `the old leader's last write (${new Date(lastOfC).toISOString()}) precedes the new one's first (${new Date(firstOfD).toISOString()})`);
    await d.stop('SIGTERM');
  });

  it('a candidate judges expiry by when it saw the Lease change, on its own clock, not by the holder\'s timestamps', async () => {
    // A holder whose clock is years behind: by its renewTime the lease expired long ago.
    const client = new KubeClient(fixture.kc);
    await client.create('/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'skewed-holder' },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 2, renewTime: '2001-01-01T00:00:00.000000Z', acquireTime: '2001-01-01T00:00:00.000000Z' },
    });
    const election = new LeaderElection({ client, namespace: 'default', name: 'skewed-holder', identity: 'candidate', log: createLogger({ role: 'leader-election-test' }, 'error'), leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodMs: 100 });
    const started = Date.now();
    const leading = new Promise<number>((resolve) => election.once('leading', () => resolve(Date.now() - started)));
    election.start();
    try {
      const tookMs = await leading;
      assert.ok(tookMs >= 2000, `took over after ${tookMs} ms: a whole lease duration after first seeing it, whatever its renewTime says`);
      assert.ok(tookMs < 6000, `took over after ${tookMs} ms`);
      const lease = await fixture.read('/apis/coordination.k8s.io/v1/namespaces/default/leases/skewed-holder');
      assert.equal(lease.spec.holderIdentity, 'candidate');
    } finally {
      await election.stop();
    }
  });

  it('logs why a renewal failed, and why the lease could not be handed back, once the API server refuses them', async () => {
    // A leader whose ServiceAccount may use Leases until its RoleBinding is deleted: from then on the API server answers 403.
    const [namespace, account, lease] = ['default', 'lease-holder', 'renewal-refused'];
    fixture.kubectl('-n', namespace, 'create', 'serviceaccount', account);
    fixture.kubectl('-n', namespace, 'create', 'role', account, '--verb=get,create,update', '--resource=leases');
    fixture.kubectl('-n', namespace, 'create', 'rolebinding', account, `--role=${account}`, `--serviceaccount=${namespace}:${account}`);
    const token = fixture.kubectl('-n', namespace, 'create', 'token', account).trim();
    const lines: string[] = [];
    const log = createLogger({ role: 'leader-election-test' }, 'warn', (line) => lines.push(line));
    const records = (msg: string) => lines.map((line) => JSON.parse(line) as { msg: string; lease: string; error: string }).filter((record) => record.msg === msg);
    const client = new KubeClient(fixture.controlPlane.kubeConfigFor({ token }));
    const election = new LeaderElection({ client, namespace, name: lease, identity: 'refused', log, leaseDurationSeconds: 8, renewDeadlineSeconds: 6, retryPeriodMs: 100 });
    election.start();
    try {
      await waitFor('leadership', () => election.leading, 10_000, 50);
      assert.deepEqual(lines, [], 'nothing to say while renewals succeed');
      fixture.kubectl('-n', namespace, 'delete', 'rolebinding', account);
      const [renewal] = await waitFor('a failed renewal in the log', () => (records('could not renew the leader lease').length > 0 ? records('could not renew the leader lease') : undefined), 10_000, 50);
      assert.equal(renewal!.lease, `${namespace}/${lease}`);
      assert.match(renewal!.error, /403 .*forbidden/);
      assert.ok(election.leading, 'still leading: the renew deadline has not passed');
    } finally {
      await election.stop();
    }
    const [release] = records('could not hand the leader lease back; it expires on its own');
    assert.match(release?.error ?? '(no such line)', /403 .*forbidden/);
  });
});
