/**
 * The operator's KubeClient under a leader's budget: a request whose budget runs out while its connection is being
 * made (the process paused, as SIGSTOP does) never reaches the server. The pause is stood in for by a budget that
 * has run out the second time it is asked; the server is a real HTTPS server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, RequestNotAllowedError } from '../../operator/kube/kube-client.js';
import { TestCa } from '../harness/test-certs.js';

describe('a KubeClient with a leader\'s budget', () => {
  let dir: string;
  let server: Server;
  let kc: KubeConfig;
  const received: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kube-client-budget-'));
    const ca = new TestCa(dir, 'ca');
    const cert = ca.issue('server', 'api-server');
    server = createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (req, res) => {
      received.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caFile: ca.cert }],
      users: [{ name: 'test', token: 'test-token' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
  });

  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends nothing when the budget runs out while the connection is made, and sends while it lasts', async () => {
    const budgets = [5_000, 0];
    const paused = new KubeClient(kc, { budgetMs: () => budgets.shift() ?? 0 });
    await assert.rejects(paused.apply('/api/v1/namespaces/a/services/late', { kind: 'Service' }), RequestNotAllowedError);
    const inTime = new KubeClient(kc, { budgetMs: () => 5_000 });
    await inTime.apply('/api/v1/namespaces/a/services/in-time', { kind: 'Service' });
    assert.deepEqual(received, ['PATCH /api/v1/namespaces/a/services/in-time?fieldManager=gateway-cluster-operator&force=true']);
  });
});
