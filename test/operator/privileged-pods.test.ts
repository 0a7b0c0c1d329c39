import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import { API_VERSION } from '../../operator/spec/gateway-cluster-kind.js';
import { MAX_PASSED_THROUGH_DEPTH } from '../../operator/spec/kube-types.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';
import { PRIVILEGED } from './privileged-specs.js';

const ns = 'privileged-pods';
const apps = (kind: string, name: string) => `/apis/apps/v1/namespaces/${ns}/${kind}/${name}`;
/** The workloads a cluster runs (the HTTP API is left out: fewer children to wait for). */
const workloads = (name: string) => [apps('deployments', `${name}-register`), apps('statefulsets', `${name}-gateway`), apps('statefulsets', `${name}-worker`)];
const base = { api: { enabled: false } };
const clusterName = (index: number) => `priv-${index}`;

describe('pod settings that grant privilege, on a real control plane', () => {
  let fixture: OperatorFixture;
  let controller: Controller | undefined;

  before(async () => {
    fixture = await OperatorFixture.start();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  const warnings = async (name: string) =>
    (await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items.filter((event) => event.type === 'Warning').map((event) => event.message ?? '');

  it('refuses a cluster with each privileged setting: Degraded naming the field, a Warning event, nothing made', async () => {
    await Promise.all(PRIVILEGED.map(([, pod], index) => fixture.createCluster(ns, clusterName(index), { ...base, pod })));
    for (const [index, [what, , field]] of PRIVILEGED.entries()) {
      const name = clusterName(index);
      const { condition } = await fixture.waitForCondition(ns, name, 'Degraded', 'True');
      assert.ok(condition.message.includes(field), `${what}: the condition names ${field}: ${condition.message}`);
      assert.match(condition.message, /refused unless the operator is installed with allowPrivilegedPods=true/);
      const events = await waitFor(`a Warning event about ${name}`, async () => ((await warnings(name)).some((m) => m.includes(field)) ? true : undefined), 10_000, 200);
      assert.ok(events, what);
      for (const path of [...workloads(name), `/api/v1/namespaces/${ns}/secrets/${name}-secret`]) assert.equal(await fixture.read(path), undefined, `${what}: ${path} not made`);
    }
  });

  it('leaves an existing cluster\'s children as they were when its spec is edited to grant privilege, until it no longer does', async () => {
    await fixture.createCluster(ns, 'edited', base);
    // The status is written at the end of a reconcile: once it has seen generation 1, every child was applied.
    await waitFor('the first reconcile of edited to end', async () => (await fixture.getCluster(ns, 'edited')).status?.observedGeneration === 1, 30_000, 200);
    const before = await Promise.all(workloads('edited').map((path) => fixture.read(path)));
    await fixture.patchCluster(ns, 'edited', {
      spec: { gateway: { replicas: 3 }, pod: { containerSecurityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } }, securityContext: { runAsUser: 0 } } },
    });
    const { condition } = await fixture.waitForCondition(ns, 'edited', 'Degraded', 'True');
    for (const field of ['spec.pod.containerSecurityContext.privileged', 'spec.pod.containerSecurityContext.capabilities.add[0]', 'spec.pod.securityContext.runAsUser']) {
      assert.ok(condition.message.includes(field), `${field} in ${condition.message}`);
    }
    // The reconcile that wrote Degraded is the one that refused: nothing it would have changed was changed.
    const after = await Promise.all(workloads('edited').map((path) => fixture.read(path)));
    assert.deepEqual(after.map((workload) => workload.metadata.resourceVersion), before.map((workload) => workload.metadata.resourceVersion));
    assert.equal(after[1].spec.replicas, 1, 'the gateway replicas change waits too');
    assert.ok((await warnings('edited')).some((message) => message.includes('spec.pod.containerSecurityContext.privileged')), 'a Warning event');

    await fixture.patchCluster(ns, 'edited', { spec: { pod: null } });
    await fixture.waitForCondition(ns, 'edited', 'Degraded', 'False', 30_000);
    await waitFor('the replicas change once the spec grants nothing', async () => (await fixture.read(apps('statefulsets', 'edited-gateway'))).spec.replicas === 3, 30_000, 200);
  });

  it(`refuses a passed-through object nested past ${MAX_PASSED_THROUGH_DEPTH} levels as an invalid spec naming it`, async () => {
    // Written as text: JSON.stringify (and so any client library) overflows long before 5,000 levels.
    const levels = 5000;
    const affinity = '{"nodeAffinity":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gwc-deep-')), 'deep.json');
    writeFileSync(file, `{"apiVersion":"${API_VERSION}","kind":"GatewayCluster","metadata":{"name":"deep"},"spec":{"api":{"enabled":false},"pod":{"affinity":${affinity}}}}`);
    fixture.kubectl('-n', ns, 'create', '-f', file);
    rmSync(path.dirname(file), { recursive: true, force: true });
    const { condition } = await fixture.waitForCondition(ns, 'deep', 'Degraded', 'True');
    assert.match(condition.message, new RegExp(`invalid spec: spec\\.pod\\.affinity: nested deeper than ${MAX_PASSED_THROUGH_DEPTH} levels`));
    assert.equal(await fixture.read(apps('statefulsets', 'deep-gateway')), undefined);
  });

  it('accepts the same clusters once the operator is installed with allowPrivilegedPods', async () => {
    controller?.stop();
    ({ controller } = await fixture.startController({ allowPrivilegedPods: true }));
    const refusedByTheApiServer: string[] = [];
    for (const [index, [what, pod]] of PRIVILEGED.entries()) {
      const name = clusterName(index);
      // Applied now: running (Degraded False), unless the API server itself refuses the pod template.
      const condition = await waitFor(`${name} to be applied`, async () => {
        const cluster = await fixture.getCluster(ns, name);
        const degraded = (cluster.status?.conditions as Array<{ type: string; status: string; message: string }> | undefined)?.find((c) => c.type === 'Degraded');
        return degraded && (degraded.status === 'False' || /could not apply/.test(degraded.message)) ? degraded : undefined;
      }, 60_000, 200);
      assert.ok(!condition.message.includes('allowPrivilegedPods'), condition.message);
      if (condition.status === 'True') {
        refusedByTheApiServer.push(what);
        continue;
      }
      const gateway = await fixture.read(apps('statefulsets', `${name}-gateway`));
      const template = gateway.spec.template;
      // Merged over the hardened default: every key the spec set is there as it set it.
      for (const [key, value] of Object.entries(pod.containerSecurityContext ?? {})) {
        const applied = template.spec.containers[0].securityContext[key];
        assert.deepEqual(key === 'capabilities' ? { add: applied.add } : applied, value, `${what}: ${key}`);
      }
      if (pod.tolerations) assert.deepEqual(template.spec.tolerations, pod.tolerations, what);
      if (pod.nodeSelector) assert.deepEqual(template.spec.nodeSelector, pod.nodeSelector, what);
    }
    // Kubernetes refuses these itself: an unmasked /proc needs hostUsers: false, a host process hostNetwork: true, and
    // no spec can set either; the old seccomp annotation must agree with the seccompProfile field of the operator's
    // default pod security context, which a spec sets instead.
    assert.deepEqual(refusedByTheApiServer, ['an unmasked /proc', 'a Windows host process', 'an unconfined seccomp annotation']);
  });
});
