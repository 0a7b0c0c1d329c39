import type { KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Controller } from '../../operator/controller/controller.js';
import { LeaderElection } from '../../operator/controller/leader-election.js';
import { KubeClient } from '../../operator/kube/kube-client.js';
import { createLogger } from '../../runtime/observability/log.js';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const chart = path.join(repoRoot, 'charts/gateway-cluster');

describe('the chart\'s RBAC is enough for the operator, and no more', () => {
  let fixture: OperatorFixture;

  before(async () => {
    fixture = await OperatorFixture.start();
  });

  after(async () => {
    await fixture?.stop();
  });

  /** Applies the chart's ServiceAccount and RBAC in `namespace`; returns a kubeconfig holding that account's token. */
  async function installRbac(namespace: string, allNamespaces: boolean, nodeLoss = true): Promise<KubeConfig> {
    await fixture.createNamespace(namespace);
    const manifests = execFileSync(ensureBinaries().helm, [
      'template', 'gwc', chart, '--namespace', namespace, '--set', `watch.allNamespaces=${allNamespaces}`, '--set', `nodeLoss.enabled=${nodeLoss}`,
      '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml',
    ], { encoding: 'utf8' });
    execFileSync(ensureBinaries().kubectl, ['--kubeconfig', fixture.controlPlane.kubeconfigPath, 'apply', '-f', '-'], { input: manifests });
    const token = fixture.kubectl('-n', namespace, 'create', 'token', 'gwc-gateway-cluster').trim();
    return fixture.controlPlane.kubeConfigFor({ token });
  }

  const canI = (namespace: string, ...args: string[]) => {
    try {
      return fixture.kubectl('auth', 'can-i', ...args, `--as=system:serviceaccount:${namespace}:gwc-gateway-cluster`).trim();
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? '').trim();
    }
  };

  it('namespace mode: reconciles a cluster in its namespace with a Role, elects a leader, and can touch nothing else', async () => {
    const kc = await installRbac('ops', false);
    const client = new KubeClient(kc);
    const controller = new Controller({ client, log: createLogger({ role: 'rbac-test' }, 'error'), namespace: 'ops' });
    const election = new LeaderElection({ client, namespace: 'ops', name: 'gateway-cluster-operator', identity: 'rbac-test', log: createLogger({ role: 'rbac-test' }, 'error'), retryPeriodMs: 200 });
    try {
      await controller.start();
      election.start();
      await waitFor('leadership with the chart\'s Role', () => election.leading, 10_000);
      await fixture.createCluster('ops', 'chat', {});
      await fixture.waitForCondition('ops', 'chat', 'Progressing', 'True', 30_000);
      for (const child of ['deployments/chat-register', 'statefulsets/chat-gateway', 'statefulsets/chat-worker']) {
        assert.ok(await fixture.read(`/apis/apps/v1/namespaces/ops/${child}`), `${child} created with the chart's RBAC`);
      }
      assert.ok(await fixture.read('/api/v1/namespaces/ops/secrets/chat-secret'));
      assert.ok(await fixture.read('/api/v1/namespaces/ops/secrets/chat-api-key'), 'the generated API key Secret');
      await waitFor('the API Deployment', () => fixture.read('/apis/apps/v1/namespaces/ops/deployments/chat-api'), 30_000, 200);
      await fixture.patchCluster('ops', 'chat', { spec: { api: { enabled: false } } });
      await waitFor('the API Deployment deleted with the chart\'s RBAC', async () => (await fixture.read('/apis/apps/v1/namespaces/ops/deployments/chat-api')) === undefined, 30_000, 200);
    } finally {
      await election.stop();
      controller.stop();
    }
    assert.equal(canI('ops', 'delete', 'statefulsets', '-n', 'ops'), 'no');
    // Secrets: read one by name, create the generated one; never list, watch, change or delete any.
    assert.equal(canI('ops', 'get', 'secrets', '-n', 'ops'), 'yes');
    assert.equal(canI('ops', 'create', 'secrets', '-n', 'ops'), 'yes');
    for (const verb of ['list', 'watch', 'update', 'patch', 'delete']) assert.equal(canI('ops', verb, 'secrets', '-n', 'ops'), 'no', `${verb} secrets`);
    assert.equal(canI('ops', 'get', 'secrets', '-n', 'default'), 'no', 'no Secret outside its namespace');
    assert.equal(canI('ops', 'create', 'networkpolicies', '-n', 'ops'), 'yes');
    assert.ok(await fixture.read('/apis/networking.k8s.io/v1/namespaces/ops/networkpolicies/chat-internal'), 'NetworkPolicy created with the chart\'s RBAC');
    assert.equal(canI('ops', 'list', 'secrets', '-n', 'default'), 'no');
    assert.equal(canI('ops', 'create', 'statefulsets', '-n', 'default'), 'no');
    assert.equal(canI('ops', 'create', 'statefulsets', '-n', 'ops'), 'yes');
    // A node loss: Nodes read cluster-wide (they are not namespaced), pods deleted in its namespace only.
    for (const verb of ['get', 'list', 'watch']) assert.equal(canI('ops', verb, 'nodes'), 'yes', `${verb} nodes`);
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.equal(canI('ops', verb, 'nodes'), 'no', `${verb} nodes`);
    assert.equal(canI('ops', 'patch', 'nodes', '--subresource=status'), 'no');
    assert.equal(canI('ops', 'delete', 'pods', '-n', 'ops'), 'yes');
    assert.equal(canI('ops', 'delete', 'pods', '-n', 'default'), 'no');
    assert.equal(canI('ops', 'create', 'pods', '-n', 'ops'), 'no');
    assert.equal(canI('ops', 'create', 'pods', '--subresource=eviction', '-n', 'ops'), 'no');
  });

  it('without nodeLoss: no access to Nodes, no pod deletion, and the operator runs all the same', async () => {
    const kc = await installRbac('ops-no-nodes', false, false);
    const controller = new Controller({ client: new KubeClient(kc), log: createLogger({ role: 'rbac-test' }, 'error'), namespace: 'ops-no-nodes', healNodeLoss: false });
    try {
      await controller.start();
      await fixture.createCluster('ops-no-nodes', 'chat', {});
      const { condition } = await fixture.waitForCondition('ops-no-nodes', 'chat', 'NodeLoss', 'Unknown', 30_000);
      assert.equal(condition.reason, 'NodesNotWatched');
    } finally {
      controller.stop();
    }
    const healing = new Controller({ client: new KubeClient(kc), log: createLogger({ role: 'rbac-test' }, 'error'), namespace: 'ops-no-nodes' });
    await assert.rejects(healing.start(), /may not list Nodes, which healing a node loss needs: .*--heal-node-loss=false/, 'an operator told to heal without access to Nodes says so rather than wait for ever');
    healing.stop();
    for (const verb of ['get', 'list', 'watch']) assert.equal(canI('ops-no-nodes', verb, 'nodes'), 'no', `${verb} nodes`);
    assert.equal(canI('ops-no-nodes', 'delete', 'pods', '-n', 'ops-no-nodes'), 'no');
    assert.equal(canI('ops-no-nodes', 'list', 'pods', '-n', 'ops-no-nodes'), 'yes');
  });

  it('cluster mode: reconciles clusters in any namespace with a ClusterRole', async () => {
    const kc = await installRbac('ops-wide', true);
    await fixture.createNamespace('team-a');
    const client = new KubeClient(kc);
    const controller = new Controller({ client, log: createLogger({ role: 'rbac-test' }, 'error') });
    try {
      await controller.start();
      await fixture.createCluster('team-a', 'push', {});
      await waitFor('the gateway StatefulSet in team-a', async () => Boolean(await fixture.read('/apis/apps/v1/namespaces/team-a/statefulsets/push-gateway')), 30_000, 200);
    } finally {
      controller.stop();
    }
    assert.equal(canI('ops-wide', 'delete', 'statefulsets', '-A'), 'no');
    assert.equal(canI('ops-wide', 'list', 'secrets', '-A'), 'no');
    assert.equal(canI('ops-wide', 'watch', 'secrets', '-A'), 'no');
    assert.equal(canI('ops-wide', 'create', 'statefulsets', '-n', 'team-a'), 'yes');
    assert.equal(canI('ops-wide', 'list', 'nodes'), 'yes');
    assert.equal(canI('ops-wide', 'patch', 'nodes'), 'no');
    assert.equal(canI('ops-wide', 'delete', 'pods', '-n', 'team-a'), 'yes');
    assert.equal(canI('ops-wide', 'create', 'pods', '-n', 'team-a'), 'no');
  });
});
