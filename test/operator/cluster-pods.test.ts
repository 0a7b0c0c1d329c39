import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { Controller } from '../../operator/controller/controller.js';
import type { ProcessKubelet } from '../kubelet/process-kubelet.js';
import { waitFor } from '../harness/wait.js';
import { OperatorFixture } from './operator-fixture.js';

const ns = 'pods-test';
const IMAGE = 'ghcr.io/gatewaycluster/gateway-cluster:0.1.0';

/** Sends `text` over a fresh WebSocket to `url` and resolves with the first reply. */
function echoOnce(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => reject(new Error(`no reply from ${url}`)), 10_000);
    ws.on('open', () => ws.send(text));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(data.toString());
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe('a GatewayCluster whose pods really run (process kubelet)', () => {
  let fixture: OperatorFixture;
  let controller: Controller;
  let kubelet: ProcessKubelet;

  before(async () => {
    fixture = await OperatorFixture.start();
    await fixture.createNamespace(ns);
    kubelet = await fixture.startKubelet(ns, '127.120');
    ({ controller } = await fixture.startController());
  });

  after(async () => {
    controller?.stop();
    await kubelet?.stop();
    await fixture?.stop();
  });

  it('becomes Ready with every pod ready, and echoes through the gateway pod', async () => {
    await fixture.createCluster(ns, 'echo', { image: IMAGE, gateway: { replicas: 1 }, worker: { replicas: 2, handler: { module: 'echo' } } });
    const { cluster } = await fixture.waitForCondition(ns, 'echo', 'Ready', 'True', 90_000);
    assert.equal(cluster.status!.gatewaysReady, '1/1');
    assert.equal(cluster.status!.workersReady, '2/2');
    assert.deepEqual(cluster.status!.register, { replicas: 1, ready: 1 });
    const progressing = cluster.status!.conditions.find((c: { type: string }) => c.type === 'Progressing');
    await waitFor('Progressing to settle', async () => {
      const now = await fixture.getCluster(ns, 'echo');
      return now.status!.conditions.find((c: { type: string }) => c.type === 'Progressing').status === 'False';
    }, 30_000, 200);
    assert.ok(progressing);

    const table = fixture.kubectl('-n', ns, 'get', 'gwc', 'echo').trim().split('\n');
    assert.match(table[0]!, /^NAME\s+READY\s+GATEWAYS\s+WORKERS\s+ADDRESS\s+AGE$/);
    assert.match(table[1]!, new RegExp(`^echo\\s+True\\s+1/1\\s+2/2\\s+echo-gateway\\.${ns}\\.svc:7272\\s+\\S+$`));

    const gatewayIp = kubelet.podIp(ns, 'echo-gateway-0');
    assert.match(gatewayIp ?? '', /^127\.120\./, 'the gateway runs on its own loopback pod IP');
    assert.equal(await echoOnce(`ws://${gatewayIp}:7272/`, 'hello through the cluster'), 'hello through the cluster');
  });

  it('reports a cluster whose image never starts as Degraded with a Warning event', async () => {
    await fixture.createCluster(ns, 'broken', { image: 'registry.example/nope:1' });
    const { condition } = await fixture.waitForCondition(ns, 'broken', 'Degraded', 'True', 60_000);
    assert.match(condition.message, /ErrImagePull/);
    const events = await fixture.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=broken' });
    assert.ok(events.items.some((e) => e.type === 'Warning' && /ErrImagePull/.test(e.message ?? '')));
    const ready = (await fixture.getCluster(ns, 'broken')).status!.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready.status, 'False');
  });
});
