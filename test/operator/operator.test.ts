import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import type { KubeClient } from '../../operator/kube/kube-client.js';
import { MAX_PASSED_THROUGH_DEPTH } from '../../operator/spec/kube-types.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const ns = 'operator-test';
const apps = (kind: string, name: string) => `/apis/apps/v1/namespaces/${ns}/${kind}/${name}`;
const core = (kind: string, name: string) => `/api/v1/namespaces/${ns}/${kind}/${name}`;

function env(workload: any, name: string): string | undefined {
  return workload.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === name)?.value;
}

describe('operator reconcile on a real control plane', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  let client: KubeClient;

  before(async () => {
    fixture = await OperatorFixture.start();
    await fixture.createNamespace(ns);
    ({ controller, client } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('creates every child, owned by the GatewayCluster', async () => {
    await fixture.createCluster(ns, 'chat', { gateway: { replicas: 2 }, worker: { replicas: 2 } });
    const cluster = await fixture.getCluster(ns, 'chat');
    const paths = [
      apps('deployments', 'chat-register'),
      apps('statefulsets', 'chat-gateway'),
      apps('statefulsets', 'chat-worker'),
      core('services', 'chat-register'),
      core('services', 'chat-gateway'),
      core('services', 'chat-gateway-headless'),
      core('secrets', 'chat-secret'),
      `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/chat-gateway`,
      apps('deployments', 'chat-api'),
      core('services', 'chat-api'),
      core('secrets', 'chat-api-key'),
    ];
    const children = await waitFor('every child to exist', async () => {
      const found = await Promise.all(paths.map((path) => fixture.read(path)));
      return found.every(Boolean) ? found : undefined;
    }, 30_000, 200);
    for (const child of children) {
      const owner = child.metadata.ownerReferences?.[0];
      assert.equal(owner?.uid, cluster.metadata.uid, `${child.kind} ${child.metadata.name} is owned by the cluster`);
      assert.equal(owner?.controller, true);
    }
    const [register, gateway, worker] = children;
    assert.equal(register.spec.replicas, 1);
    assert.equal(gateway.spec.replicas, 2);
    assert.equal(worker.spec.replicas, 2);
    const lanIp = gateway.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'POD_IP');
    assert.equal(lanIp.valueFrom.fieldRef.fieldPath, 'status.podIP', 'lanIp comes from the pod IP');
    assert.equal(env(gateway, 'GWC_REGISTER_ADDRESS'), `chat-register.${ns}.svc:1236`);
    const secret = children[6];
    assert.ok(Buffer.from(secret.data.secret, 'base64').length >= 16, 'a generated shared secret');
    const [api, apiService, apiKey] = children.slice(-3);
    assert.equal(api.spec.replicas, 1, 'the HTTP API runs by default');
    assert.equal(env(api, 'GWC_API_KEY_FILE'), '/etc/gwc/api-key/keys');
    assert.equal(apiService.spec.ports[0].port, 7280);
    assert.match(Buffer.from(apiKey.data.keys, 'base64').toString(), /^[\w-]{32}\n$/, 'a generated API key');
  });

  it('reports the scale subresource view and the client address in status', async () => {
    const { cluster } = await fixture.waitForCondition(ns, 'chat', 'Ready', 'False');
    assert.equal(cluster.status!.observedGeneration, cluster.metadata.generation);
    assert.equal(cluster.status!.selector, 'app.kubernetes.io/component=worker,app.kubernetes.io/instance=chat,app.kubernetes.io/name=gateway-cluster'.split(',').sort().join(','));
    assert.match(cluster.status!.address, new RegExp(`^chat-gateway\\.${ns}\\.svc:\\d+$`));
    assert.equal(cluster.status!.apiUrl, `http://chat-api.${ns}.svc:7280/v1/`);
    assert.deepEqual(cluster.status!.api, { replicas: 1, ready: 0 });
    assert.match(cluster.status!.conditions.find((c: { type: string }) => c.type === 'Ready').message, /the HTTP API 0\/1 ready/);
    const progressing = cluster.status!.conditions.find((c: { type: string }) => c.type === 'Progressing');
    assert.equal(progressing.status, 'True');
  });

  it('follows spec changes: gateway replicas, image and ping settings', async () => {
    await fixture.patchCluster(ns, 'chat', { spec: { image: 'example/gwc:2', gateway: { replicas: 3, pingInterval: 7, pingData: '{"type":"ping"}' } } });
    const image = (sts: any) => sts?.spec.template.spec.containers[0].image;
    // One reconcile applies the children one after another: wait for each of them to show every change asserted.
    const gateway = await waitFor('the gateway StatefulSet to follow', async () => {
      const sts = await fixture.read(apps('statefulsets', 'chat-gateway'));
      return sts.spec.replicas === 3 && env(sts, 'GWC_PING_INTERVAL') === '7' && image(sts) === 'example/gwc:2' ? sts : undefined;
    }, 30_000, 200);
    assert.equal(env(gateway, 'GWC_PING_DATA'), '{"type":"ping"}');
    await waitFor('the worker StatefulSet to take the image', async () => image(await fixture.read(apps('statefulsets', 'chat-worker'))) === 'example/gwc:2', 30_000, 200);
    await waitFor('the register Deployment to take the image', async () => image(await fixture.read(apps('deployments', 'chat-register'))) === 'example/gwc:2', 30_000, 200);
  });

  it('removes the HTTP API when spec.api is turned off, and brings it back', async () => {
    const apiPaths = [apps('deployments', 'chat-api'), core('services', 'chat-api')];
    await fixture.patchCluster(ns, 'chat', { spec: { api: { enabled: false } } });
    await waitFor('the API Deployment and Service to be deleted', async () => (await Promise.all(apiPaths.map((p) => fixture.read(p)))).every((o) => o === undefined), 30_000, 200);
    await waitFor('status to drop the API', async () => {
      const { status } = await fixture.getCluster(ns, 'chat');
      return status && status.apiUrl === undefined && status.api === undefined && !/HTTP API/.test(JSON.stringify(status.conditions));
    }, 30_000, 200);
    assert.ok(await fixture.read(core('secrets', 'chat-api-key')), 'the generated key stays, for when the API comes back');
    assert.ok(await fixture.read(apps('statefulsets', 'chat-worker')), 'the other workloads stay');
    await fixture.patchCluster(ns, 'chat', { spec: { api: { enabled: true } } });
    await waitFor('the API Deployment and Service to be back', async () => (await Promise.all(apiPaths.map((p) => fixture.read(p)))).every(Boolean), 30_000, 200);
  });

  it('turns GatewayWorker compatibility on: a generated secret of its own in the Register and gateways, its port on the Register Service', async () => {
    await fixture.patchCluster(ns, 'chat', { spec: { gatewayWorkerCompat: { enabled: true } } });
    const secret = await waitFor('the compat Secret', () => fixture.read(core('secrets', 'chat-gatewayworker-secret')), 30_000, 200);
    const value = Buffer.from(secret.data.secret, 'base64').toString();
    assert.match(value, /^[0-9a-f]{48}$/, 'hex: GatewayClient writes it into JSON unescaped');
    const shared = await fixture.read(core('secrets', 'chat-secret'));
    assert.notEqual(value, Buffer.from(shared.data.secret, 'base64').toString());
    const register = await waitFor('the Register to take it', async () => {
      const deployment = await fixture.read(apps('deployments', 'chat-register'));
      return env(deployment, 'GWC_GATEWAYWORKER_COMPAT') === 'true' ? deployment : undefined;
    }, 30_000, 200);
    assert.equal(env(register, 'GWC_GATEWAYWORKER_SECRET_FILE'), '/etc/gwc/gatewayworker/secret');
    await waitFor('the gateways to take it', async () => env(await fixture.read(apps('statefulsets', 'chat-gateway')), 'GWC_GATEWAYWORKER_COMPAT') === 'true', 30_000, 200);
    await waitFor('the Register Service to open its port', async () => {
      const service = await fixture.read(core('services', 'chat-register'));
      return service.spec.ports.some((p: { name: string; port: number }) => p.name === 'gatewayworker' && p.port === 1237);
    }, 30_000, 200);
  });

  it('scales workers with kubectl scale and reports it in status', async () => {
    fixture.kubectl('-n', ns, 'scale', 'gwc/chat', '--replicas=4');
    await waitFor('the worker StatefulSet to have 4 replicas', async () => (await fixture.read(apps('statefulsets', 'chat-worker'))).spec.replicas === 4, 30_000, 200);
    await waitFor('status to report 4 workers', async () => {
      const cluster = await fixture.getCluster(ns, 'chat');
      return cluster.status?.workers?.replicas === 4 && cluster.status.replicas === 4;
    }, 30_000, 200);
  });

  it('recreates a deleted child', async () => {
    const before = await fixture.read(core('services', 'chat-register'));
    fixture.kubectl('-n', ns, 'delete', 'service', 'chat-register');
    await waitFor('the register Service to come back', async () => {
      const service = await fixture.read(core('services', 'chat-register'));
      return service && service.metadata.uid !== before.metadata.uid;
    }, 30_000, 200);
  });

  it('sends no write when a restarted operator finds nothing to change', async () => {
    await controller.queue.idle();
    controller.stop();
    const restarted = await fixture.startController();
    try {
      await waitFor('the restarted operator to go through every cluster', async () => {
        await restarted.controller.queue.idle();
        return restarted.controller.metrics.reconciles.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0) >= 1);
      }, 30_000, 100);
      await restarted.controller.queue.idle();
      assert.deepEqual(restarted.client.writeLog, [], 'no API writes');
    } finally {
      restarted.controller.stop();
      ({ controller, client } = await fixture.startController());
    }
  });

  it('runs the operator\'s image where the spec names none: a new operator image moves those clusters, pinned ones stay', async () => {
    const image = (cluster: string) => async () => (await fixture.read(apps('statefulsets', `${cluster}-gateway`)))?.spec.template.spec.containers[0].image;
    const imageIs = (cluster: string, expected: string) => waitFor(`${cluster} to run ${expected}`, async () => (await image(cluster)()) === expected, 30_000, 200);
    await controller.queue.idle();
    controller.stop();
    ({ controller, client } = await fixture.startController({ operandImage: 'example/gwc:1' }));
    await fixture.createCluster(ns, 'follows', {});
    await fixture.createCluster(ns, 'pinned', { image: 'example/pinned:1' });
    await imageIs('follows', 'example/gwc:1');
    await imageIs('pinned', 'example/pinned:1');
    await controller.queue.idle();
    controller.stop();
    ({ controller, client } = await fixture.startController({ operandImage: 'example/gwc:2' }));
    await imageIs('follows', 'example/gwc:2');
    await controller.queue.idle();
    assert.equal(await image('pinned')(), 'example/pinned:1');
    assert.equal(await image('chat')(), 'example/gwc:2', 'chat pinned example/gwc:2 in an earlier test');
    for (const name of ['follows', 'pinned']) fixture.kubectl('-n', ns, 'delete', 'gwc', name, '--wait=false');
  });

  it('does not fight a gateway autoscaler: a scale by someone else stays through reconciles, until autoscaling is turned off', async () => {
    const sts = () => fixture.read(apps('statefulsets', 'scaled-gateway'));
    const hpaPath = `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/scaled-gateway`;
    await fixture.createCluster(ns, 'scaled', { gateway: { replicas: 2, autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 5 } } });
    const hpa = await waitFor('the gateway autoscaler', () => fixture.read(hpaPath), 30_000, 200);
    assert.equal(hpa.spec.scaleTargetRef.name, 'scaled-gateway');
    assert.equal(hpa.metadata.ownerReferences[0].name, 'scaled');
    await waitFor('the gateway StatefulSet at 2', async () => (await sts())?.spec.replicas === 2, 30_000, 200);

    // What an HPA does: a write to the StatefulSet's scale subresource.
    fixture.kubectl('-n', ns, 'scale', 'statefulset', 'scaled-gateway', '--replicas=4');
    await fixture.patchCluster(ns, 'scaled', { spec: { gateway: { pingInterval: 9 } } });
    const after = await waitFor('the spec change to land', async () => {
      const live = await sts();
      return env(live, 'GWC_PING_INTERVAL') === '9' ? live : undefined;
    }, 30_000, 200);
    assert.equal(after.spec.replicas, 4, 'the autoscaler\'s count stays');
    await controller.queue.idle();
    assert.equal((await sts()).spec.replicas, 4);

    await fixture.patchCluster(ns, 'scaled', { spec: { gateway: { autoscaling: { enabled: false } } } });
    await waitFor('the autoscaler to be deleted', async () => (await fixture.read(hpaPath)) === undefined, 30_000, 200);
    await waitFor('the spec\'s replicas back', async () => (await sts())?.spec.replicas === 2, 30_000, 200);
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'scaled', '--wait=false');
  });

  it('reports a missing Secret as Degraded with a Warning event, without a hot loop', async () => {
    await fixture.createCluster(ns, 'nosecret', { secretRef: { name: 'missing' } });
    const { condition } = await fixture.waitForCondition(ns, 'nosecret', 'Degraded', 'True');
    assert.match(condition.message, /Secret missing \(spec\.secretRef\) not found/);
    const events = await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=nosecret' });
    assert.ok(events.items.some((e) => e.type === 'Warning' && /Secret missing/.test(e.message ?? '')), 'a Warning event');
    const writesBefore = client.writes;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(client.writes - writesBefore <= 2, `no hot loop: ${client.writes - writesBefore} writes in 3 s`);
    assert.equal(await fixture.read(apps('statefulsets', 'nosecret-gateway')), undefined, 'nothing deployed without the secret');

    await fixture.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'missing' }, stringData: { secret: 'a-shared-secret-of-32-characters' } } });
    await fixture.waitForCondition(ns, 'nosecret', 'Degraded', 'False', 45_000);
    await waitFor('the gateway StatefulSet once the secret exists', async () => Boolean(await fixture.read(apps('statefulsets', 'nosecret-gateway'))), 30_000, 200);
  });

  it('announces each problem by one Warning event with its own reason, however often it reconciles; again when a problem comes back; nothing new after a restart', async () => {
    const name = 'twoproblems';
    const warnings = async () =>
      (await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},type=Warning` })).items.map((e) => `${e.reason}: ${e.message}`).sort();
    const reconciled = () =>
      waitFor(`a reconcile of ${name} to end`, async () => {
        const cluster = await fixture.getCluster(ns, name);
        return cluster.status?.observedGeneration === cluster.metadata.generation ? cluster : undefined;
      }, 30_000, 100);
    const missingSecret = 'SecretNotFound: Secret absent (spec.secretRef) not found';
    const missingHandler = 'ConfigMapNotFound: ConfigMap absent-handler (spec.worker.handler.configMap) not found';
    await fixture.createCluster(ns, name, { secretRef: { name: 'absent' }, worker: { handler: { configMap: { name: 'absent-handler' } } } });
    const { condition } = await fixture.waitForCondition(ns, name, 'Degraded', 'True');
    assert.equal(condition.message, 'Secret absent (spec.secretRef) not found; ConfigMap absent-handler (spec.worker.handler.configMap) not found');
    for (const pingInterval of [7, 8, 9]) {
      await fixture.patchCluster(ns, name, { spec: { gateway: { pingInterval } } });
      await reconciled();
    }
    assert.deepEqual(await warnings(), [missingHandler, missingSecret], 'one event per problem through four reconciles');

    await fixture.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'absent-handler' }, data: { 'handler.mjs': 'export default {}' } } });
    await fixture.patchCluster(ns, name, { spec: { gateway: { pingInterval: 10 } } });
    assert.equal((await reconciled()).status?.conditions.find((c: { type: string }) => c.type === 'Degraded').message, 'Secret absent (spec.secretRef) not found');
    await fixture.core.deleteNamespacedConfigMap({ namespace: ns, name: 'absent-handler' });
    await fixture.patchCluster(ns, name, { spec: { gateway: { pingInterval: 11 } } });
    await reconciled();
    assert.deepEqual(await warnings(), [missingHandler, missingHandler, missingSecret], 'the handler problem came back: announced again');

    controller.stop();
    ({ controller, client } = await fixture.startController());
    await controller.queue.idle();
    assert.deepEqual(await warnings(), [missingHandler, missingHandler, missingSecret], 'a new operator process finds both problems in the status: announced already');
    fixture.kubectl('-n', ns, 'delete', 'gwc', name, '--wait=false');
  });

  it('refuses an invalid spec as a terminal error: Degraded naming the field, counted as such, not retried', async () => {
    const reconciles = async () => Object.fromEntries((await controller.metrics.reconciles.get()).values.map((v) => [v.labels.result, v.value]));
    const before = await reconciles();
    let affinity: Record<string, unknown> = {};
    for (let level = 0; level < MAX_PASSED_THROUGH_DEPTH; level++) affinity = { nodeAffinity: affinity };
    await fixture.createCluster(ns, 'invalid', { pod: { affinity } });
    const { condition } = await fixture.waitForCondition(ns, 'invalid', 'Degraded', 'True');
    assert.match(condition.message, /^invalid spec: spec\.pod\.affinity: nested deeper than/);
    await controller.queue.idle();
    const after = await reconciles();
    // Its own status write brings it back once (as any change to the cluster does): each time it ends as terminal.
    assert.ok((after.terminal ?? 0) > (before.terminal ?? 0), 'counted as terminal');
    assert.equal(after.error ?? 0, before.error ?? 0, 'no error, so no retry with backoff');
    assert.equal(await fixture.read(apps('statefulsets', 'invalid-gateway')), undefined);
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'invalid', '--wait=false');
  });

  it('changes nothing while paused, and says so', async () => {
    await fixture.patchCluster(ns, 'chat', { metadata: { annotations: { 'gatewaycluster.dev/paused': 'true' } }, spec: { gateway: { replicas: 1 } } });
    await fixture.waitForCondition(ns, 'chat', 'Paused', 'True');
    assert.equal((await fixture.read(apps('statefulsets', 'chat-gateway'))).spec.replicas, 3);
    await fixture.patchCluster(ns, 'chat', { metadata: { annotations: { 'gatewaycluster.dev/paused': null } } });
    await waitFor('the change to land once resumed', async () => (await fixture.read(apps('statefulsets', 'chat-gateway'))).spec.replicas === 1, 30_000, 200);
    await waitFor('the gateway PodDisruptionBudget to go with the second replica', async () => {
      return (await fixture.read(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/chat-gateway`)) === undefined;
    }, 30_000, 200);
  });

  it('leaves the children to the garbage collector when the GatewayCluster is deleted', async () => {
    fixture.kubectl('-n', ns, 'delete', 'gwc', 'chat');
    await waitFor('every child of chat to be gone', async () => {
      const left = await Promise.all([apps('deployments', 'chat-register'), apps('statefulsets', 'chat-gateway'), core('secrets', 'chat-secret')].map((p) => fixture.read(p)));
      return left.every((child) => child === undefined);
    }, 60_000, 250);
  });
});
