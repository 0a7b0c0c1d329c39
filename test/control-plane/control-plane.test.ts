import { AppsV1Api, CoreV1Api, DiscoveryV1Api, VersionApi } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../harness/wait.js';
import { repoRoot } from './binaries.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { httpsGet } from './net-helpers.js';

const versions = readFileSync(path.join(repoRoot, 'test/control-plane/versions.env'), 'utf8');
const pinnedKubernetes = /^KUBERNETES_VERSION=(\S+)$/m.exec(versions)![1]!;

describe('test control plane', () => {
  let controlPlane: ControlPlane;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const namespace = 'control-plane-test';

  before(async () => {
    controlPlane = await startControlPlane();
    const kc = controlPlane.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    await controlPlane?.stop();
  });

  it('serves the pinned Kubernetes version over TLS with the admin token', async () => {
    const version = await controlPlane.kubeConfig().makeApiClient(VersionApi).getCode();
    assert.equal(version.gitVersion, `v${pinnedKubernetes}`);
    assert.match(controlPlane.server, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('trusts only its own CA and the admin token', async () => {
    const { ca } = controlPlane;
    assert.equal((await httpsGet(`${controlPlane.server}/api`, { ca, token: controlPlane.token })).status, 200);
    assert.equal((await httpsGet(`${controlPlane.server}/api`, { ca, token: 'wrong' })).status, 401);
    await assert.rejects(httpsGet(`${controlPlane.server}/api`, { token: controlPlane.token }), /certificate/);
  });

  it('runs the Deployment, ReplicaSet, EndpointSlice and garbage-collector controllers', async () => {
    const labels = { app: 'probe' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'probe' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'example/none:1' }] } },
        },
      },
    });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'probe' }, spec: { selector: labels, ports: [{ port: 80 }] } },
    });
    const pods = await waitFor('the Deployment to create 2 pods', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=probe' });
      return list.items.length === 2 ? list.items : undefined;
    }, 30_000, 200);
    assert.equal(pods[0]!.metadata!.ownerReferences![0]!.kind, 'ReplicaSet');
    const discovery = controlPlane.kubeConfig().makeApiClient(DiscoveryV1Api);
    await waitFor('an EndpointSlice for the Service', async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=probe' });
      return slices.items.length > 0;
    }, 30_000, 200);

    await apps.deleteNamespacedDeployment({ name: 'probe', namespace });
    await waitFor('the garbage collector to remove the ReplicaSet and pods', async () => {
      const [sets, left] = await Promise.all([
        apps.listNamespacedReplicaSet({ namespace }),
        core.listNamespacedPod({ namespace, labelSelector: 'app=probe' }),
      ]);
      return sets.items.length === 0 && left.items.length === 0;
    }, 30_000, 200);
  });

  it('finishes deleting a namespace (the namespace controller runs)', async () => {
    await core.createNamespace({ body: { metadata: { name: 'short-lived' } } });
    await core.deleteNamespace({ name: 'short-lived' });
    await waitFor('the namespace to be gone', async () => {
      const list = await core.listNamespace();
      return !list.items.some((ns) => ns.metadata?.name === 'short-lived');
    }, 30_000, 200);
  });

  it('removes its data when stopped', async () => {
    const other = await startControlPlane();
    assert.ok(existsSync(other.kubeconfigPath));
    await other.stop();
    assert.equal(existsSync(other.dir), false);
  });
});
