import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { ResilientInformer } from './resilient-informer.js';
import { waitFor } from '../harness/wait.js';

/** A fake API server whose pod list and watches misbehave in turn. */
const requests: string[] = [];
let lists = 0;
let watches = 0;
let server: http.Server;
let kubeConfig: KubeConfig;
const held: http.ServerResponse[] = [];
const pod = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv } });

before(async () => {
  server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    if (url.searchParams.get('watch') !== 'true') {
      lists++;
      const items = lists === 1 ? [pod('a', '1')] : [pod('a', '1'), pod('c', '5')];
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: lists === 1 ? '1' : '5' }, items }));
      return;
    }
    watches++;
    if (watches === 1) return void response.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500}');
    response.writeHead(200, { 'content-type': 'application/json' });
    if (watches === 2) {
      // a normal event, then the server ends the watch (as it does after its timeout)
      response.end(`${JSON.stringify({ type: 'ADDED', object: pod('b', '2') })}\n`);
    } else if (watches === 3) {
      // the resource version is too old: the informer must list again
      response.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410, reason: 'Expired' } })}\n`);
    } else {
      held.push(response);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.120.2.1', resolve));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.120.2.1:${(server.address() as { port: number }).port}`, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'nobody' }],
    currentContext: 'fake',
  });
});
after(() => {
  for (const response of held) response.destroy();
  server.closeAllConnections();
  server.close();
});

describe('the resilient informer', () => {
  it('restarts after a failed watch, re-watches when the server ends one, and relists after 410 Gone', async () => {
    const upserts: string[] = [];
    const removes: string[] = [];
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const informer = new ResilientInformer<V1Pod>(kubeConfig, '/api/v1/namespaces/ns/pods', () => core.listNamespacedPod({ namespace: 'ns' }), {
      upsert: (p) => upserts.push(p.metadata!.name!),
      remove: (p) => removes.push(p.metadata!.name!),
    }, () => {});
    await informer.start();
    try {
      await waitFor('the fourth watch', () => watches >= 4, 15_000);
      await waitFor('the relisted state', () => informer.list('ns').length === 2 && upserts.includes('c'), 5000);
      assert.deepEqual(upserts, ['a', 'b', 'c'], 'an unchanged object is not reported again on relist');
      assert.deepEqual(removes, ['b']);
      assert.equal(lists, 2);
      assert.deepEqual(informer.list('ns').map((p) => p.metadata!.name).sort(), ['a', 'c']);
      const watchUrls = requests.filter((r) => r.includes('watch=true'));
      assert.match(watchUrls[1]!, /resourceVersion=1/, 'the restarted watch resumes from the last resource version');
      assert.match(watchUrls[3]!, /resourceVersion=5/, 'after 410 it watches from the new list');
    } finally {
      await informer.stop();
    }
  });
});
