import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_NAME_LENGTH } from '../../operator/crd/gateway-cluster-crd.js';
import { GROUP, PLURAL, VERSION } from '../../operator/spec/gateway-cluster-kind.js';
import { crdPath, renderCrd } from '../../operator/crd/write-crd.js';
import { ensureBinaries, repoRoot } from '../control-plane/binaries.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { waitFor } from '../harness/wait.js';

describe('the checked-in CRD', () => {
  it('is what the zod schema generates (run `npm run crd` after changing operator/spec)', () => {
    assert.equal(readFileSync(crdPath, 'utf8'), renderCrd(), `${crdPath} is stale: run npm run crd`);
  });
});

describe('the CRD on a real API server', () => {
  let controlPlane: ControlPlane;
  let kc: KubeConfig;
  let objects: CustomObjectsApi;
  const namespace = 'default';

  const create = (name: string, spec: unknown) =>
    objects.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'GatewayCluster', metadata: { name }, spec } });

  /** The API server's refusal message for `spec`, or fails if it was accepted. */
  async function refusal(name: string, spec: unknown): Promise<string> {
    try {
      await create(name, spec);
    } catch (error) {
      return String((error as { body?: string }).body ?? error);
    }
    assert.fail(`${JSON.stringify(spec)} was accepted`);
  }

  before(async () => {
    controlPlane = await startControlPlane();
    kc = controlPlane.kubeConfig();
    objects = kc.makeApiClient(CustomObjectsApi);
    const extensions = kc.makeApiClient(ApiextensionsV1Api);
    // kubectl, not client-node's typed API: its serializer renames schema keys such as `default`.
    execFileSync(ensureBinaries().kubectl, ['--kubeconfig', controlPlane.kubeconfigPath, 'apply', '-f', crdPath]);
    await waitFor('the CRD to be established', async () => {
      const crd = await extensions.readCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    }, 30_000, 200);
  });

  after(async () => {
    await controlPlane?.stop();
  });

  it('fills in the defaults of an empty spec', async () => {
    const created = (await create('defaults', {})) as { spec: Record<string, Record<string, unknown>> };
    assert.equal(created.spec.gateway!.clientPort, 7272);
    assert.equal(created.spec.gateway!.protocol, 'websocket');
    assert.equal(created.spec.register!.port, 1236);
    assert.equal(created.spec.worker!.replicas, 1);
    assert.deepEqual(created.spec.metrics, { enabled: true, serviceMonitor: { enabled: false } });
  });

  it('refuses bad values with a message naming the field', async () => {
    assert.match(await refusal('bad-port', { gateway: { clientPort: 70000 } }), /spec\.gateway\.clientPort/);
    assert.match(await refusal('bad-protocol', { gateway: { protocol: 'udp' } }), /spec\.gateway\.protocol.*Unsupported value: \\?"udp\\?"/);
    assert.match(await refusal('bad-replicas', { worker: { replicas: -1 } }), /spec\.worker\.replicas/);
    assert.match(await refusal('bad-quantity', { worker: { resources: { limits: { memory: 'lots' } } } }), /spec\.worker\.resources\.limits\.memory/);
  });

  it('checks the cross-field rules (CEL)', async () => {
    assert.match(await refusal('same-ports', { gateway: { clientPort: 2900, internalPort: 2900 } }), /clientPort and gateway\.internalPort must differ/);
    assert.match(await refusal('two-handlers', { worker: { handler: { module: 'chat', configMap: { name: 'h' } } } }), /handler\.module or worker\.handler\.configMap, not both/);
    assert.match(await refusal('n'.repeat(MAX_NAME_LENGTH + 1), {}), new RegExp(`name has at most ${MAX_NAME_LENGTH} characters`));
    assert.ok(await create('n'.repeat(MAX_NAME_LENGTH), {}), 'the longest name is taken');
    assert.match(await refusal('min-over-max', { gateway: { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 2 } } }), /autoscaling\.minReplicas must not exceed maxReplicas/);
    assert.match(await refusal('compat-port', { gatewayWorkerCompat: { enabled: true, port: 1236 } }), /gatewayWorkerCompat\.port and register\.port must differ/);
    assert.ok(await create('compat-port-off', { gatewayWorkerCompat: { enabled: false, port: 1236 } }), 'no clash while compatibility is off');
    assert.match(await refusal('monitor-no-metrics', { metrics: { enabled: false, serviceMonitor: { enabled: true } } }), /serviceMonitor\.enabled needs metrics\.enabled/);
  });

  it('accepts every example manifest as it is (server-side dry run)', () => {
    for (const example of readdirSync(path.join(repoRoot, 'examples')).filter((file) => file.endsWith('.yaml'))) {
      const out = execFileSync(ensureBinaries().kubectl, ['--kubeconfig', controlPlane.kubeconfigPath, '-n', namespace, 'apply', '--dry-run=server', '-f', path.join(repoRoot, 'examples', example)], { encoding: 'utf8' });
      assert.match(out, /gatewaycluster\.gatewaycluster\.dev\/\S+ created \(server dry run\)/, `${example}: ${out}`);
    }
  });

  it('scales the workers through the scale subresource with kubectl', async () => {
    await create('scaled', { worker: { replicas: 1 } });
    execFileSync(ensureBinaries().kubectl, ['--kubeconfig', controlPlane.kubeconfigPath, '-n', namespace, 'scale', 'gwc/scaled', '--replicas=4']);
    const scaled = (await objects.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'scaled' })) as {
      spec: { worker: { replicas: number } };
    };
    assert.equal(scaled.spec.worker.replicas, 4);
  });
});
