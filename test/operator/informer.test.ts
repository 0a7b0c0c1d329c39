import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Informer } from '../../operator/controller/informer.js';
import { KubeClient } from '../../operator/kube/kube-client.js';
import { RESOURCE_TYPES } from '../../operator/kube/resource-paths.js';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { waitFor } from '../harness/wait.js';

/** A TCP proxy in front of the API server that the test can cut, to break the informer's connections for real. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Drops every connection and refuses new ones until open() again. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe('Informer', () => {
  let controlPlane: ControlPlane;
  let proxy: CuttableProxy;
  let direct: KubeClient;
  let viaProxy: KubeClient;
  const ns = 'default';

  before(async () => {
    controlPlane = await startControlPlane();
    direct = new KubeClient(controlPlane.kubeConfig());
    const url = new URL(controlPlane.server);
    proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port) });
    await proxy.open();
    viaProxy = new KubeClient(controlPlane.kubeConfigFor({ server: `https://127.0.0.1:${proxy.port}` }));
  });

  after(async () => {
    await proxy?.cut().catch(() => {});
    await controlPlane?.stop();
  });

  const configMap = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { informer: 'test' } }, data: { value } });

  it('lists, then follows adds, updates and deletes; comes back after its connection is cut, missing nothing', async () => {
    await direct.create(`/api/v1/namespaces/${ns}/configmaps`, configMap('before', '1'));
    const events: string[] = [];
    const informer = new Informer(viaProxy, RESOURCE_TYPES.ConfigMap, { namespace: ns, labelSelector: 'informer=test', initialBackoffMs: 100, maxBackoffMs: 400 });
    for (const kind of ['add', 'update', 'delete'] as const) informer.on(kind, (o) => events.push(`${kind} ${o.metadata.name}`));
    informer.start();
    try {
      await waitFor('the initial list', () => informer.synced, 10_000);
      assert.deepEqual(events, ['add before']);

      await direct.create(`/api/v1/namespaces/${ns}/configmaps`, configMap('live', '1'));
      await direct.apply(`/api/v1/namespaces/${ns}/configmaps/live`, configMap('live', '2'));
      await waitFor('the watch to deliver the add and the update', () => events.includes('update live'), 10_000);

      await proxy.cut();
      // While the informer cannot reach the server, things change.
      await direct.create(`/api/v1/namespaces/${ns}/configmaps`, configMap('during', '1'));
      await direct.delete(`/api/v1/namespaces/${ns}/configmaps/before`);
      await waitFor('the informer to notice and retry', () => informer.restarts >= 2, 10_000);
      await proxy.open(proxy.port);

      await waitFor('the informer to catch up', () => Boolean(informer.get(ns, 'during')) && !informer.get(ns, 'before'), 15_000);
      assert.ok(events.includes('add during'));
      assert.ok(events.includes('delete before'));
      await direct.create(`/api/v1/namespaces/${ns}/configmaps`, configMap('after', '1'));
      await waitFor('the resumed watch to deliver a new add', () => events.includes('add after'), 10_000);
    } finally {
      informer.stop();
    }
  });
});
