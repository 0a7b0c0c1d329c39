import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ProbeWorker, runAction, type ActionContext } from './probes.js';
import { waitFor } from '../harness/wait.js';

const ip = '127.120.1.1';
let server: http.Server;
let port = 0;
const ctx = (): ActionContext => ({ podIP: ip, ports: [{ name: 'web', containerPort: port }], env: { PATH: process.env.PATH ?? '', GREETING: 'hi' }, cwd: '/', rewrite: (v) => v });

before(async () => {
  server = http.createServer((request, response) => {
    if (request.url === '/slow') return void setTimeout(() => response.end('late'), 3000);
    response.writeHead(request.url === '/ok' ? 200 : request.url === '/redirect' ? 302 : 500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  port = (server.address() as { port: number }).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('probe actions', () => {
  it('httpGet succeeds for 2xx and 3xx on the pod IP (by port number or name), fails otherwise or on timeout', async () => {
    assert.deepEqual(await runAction({ httpGet: { path: '/ok', port } }, ctx(), 1000), { ok: true });
    assert.deepEqual(await runAction({ httpGet: { path: '/ok', port: 'web' } }, ctx(), 1000), { ok: true });
    assert.equal((await runAction({ httpGet: { path: '/redirect', port } }, ctx(), 1000)).ok, true);
    assert.deepEqual(await runAction({ httpGet: { path: '/bad', port } }, ctx(), 1000), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
    assert.match((await runAction({ httpGet: { path: '/slow', port } }, ctx(), 200)).message ?? '', /deadline exceeded/);
    assert.match((await runAction({ httpGet: { path: '/', port: 'nope' } }, ctx(), 200)).message ?? '', /no container port named "nope"/);
  });

  it('tcpSocket connects; exec runs with the container env and succeeds on exit 0; sleep waits', async () => {
    assert.deepEqual(await runAction({ tcpSocket: { port } }, ctx(), 1000), { ok: true });
    assert.equal((await runAction({ tcpSocket: { port: 1 } }, ctx(), 1000)).ok, false);
    assert.deepEqual(await runAction({ exec: { command: ['sh', '-c', 'test "$GREETING" = hi'] } }, ctx(), 2000), { ok: true });
    assert.match((await runAction({ exec: { command: ['sh', '-c', 'echo nope; exit 3'] } }, ctx(), 2000)).message ?? '', /exited with 3: nope/);
    assert.equal((await runAction({ exec: { command: ['sleep', '5'] } }, ctx(), 200)).ok, false);
    const started = Date.now();
    assert.deepEqual(await runAction({ sleep: { seconds: 1 } }, ctx(), 5000), { ok: true });
    assert.ok(Date.now() - started >= 950);
  });
});

describe('the probe worker', () => {
  it('readiness: not ready until successThreshold successes, not ready again after failureThreshold failures', async () => {
    const script = [false, true, true, false, true, false, false, true];
    const seen: boolean[] = [];
    let calls = 0;
    const worker = new ProbeWorker('readiness', { periodSeconds: 1, successThreshold: 2, failureThreshold: 2 },
      async () => ({ ok: script[calls++] ?? true }), (result) => seen.push(result));
    assert.equal(worker.result, false);
    worker.start();
    await waitFor('eight probes', () => calls >= 8, 15_000);
    worker.stop();
    assert.deepEqual(seen, [true, false]);
  });

  it('liveness: reports failure after failureThreshold failures in a row', async () => {
    let calls = 0;
    const failures: string[] = [];
    const worker = new ProbeWorker('liveness', { periodSeconds: 1, failureThreshold: 2 },
      async () => ({ ok: calls++ === 1, message: `try ${calls}` }), (result, message) => !result && failures.push(message ?? ''));
    assert.equal(worker.result, true);
    worker.start();
    await waitFor('a liveness failure', () => failures.length > 0, 10_000);
    worker.stop();
    assert.deepEqual(failures, ['try 4']);
  });
});
