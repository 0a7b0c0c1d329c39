import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { GatewayClient } from '../../runtime/client/gateway-client.js';
import { cliPath, type LogRecord } from '../harness/role-process.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const HOST = '127.0.0.79';
const folder = mkdtempSync(path.join(tmpdir(), 'gwc-handler-'));
const handlerFile = path.join(folder, 'handler.mjs');

/** A handler outside the project, importing the package by name with no node_modules anywhere near it. */
function writeHandler(version: string): void {
  writeFileSync(
    handlerFile,
    `import { RefuseConnection } from 'gateway-cluster';
export default {
  onWebSocketConnect(clientId, request) {
    if (request.url.includes('deny')) throw new RefuseConnection(401, 'denied by ${version}');
  },
  async onMessage(clientId, message, ctx) {
    await ctx.sendToCurrentClient('${version}:' + message);
  },
};
`,
  );
}

describe('the local cluster as a handler developer uses it', () => {
  let cluster: ChildProcess;
  const records: LogRecord[] = [];
  const raw: string[] = [];
  let ready: LogRecord;

  before(async () => {
    writeHandler('v1');
    cluster = spawn(process.execPath, [cliPath, 'local', '--host', HOST, '--handler', handlerFile, '--watch'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GWC_SECRET: '', GWC_API_KEY: '' },
    });
    createInterface({ input: cluster.stdout! }).on('line', (line) => {
      raw.push(line);
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {}
    });
    createInterface({ input: cluster.stderr! }).on('line', (line) => raw.push(`stderr: ${line}`));
    ready = await waitFor('the local cluster to be ready', () => records.find((r) => r.msg === 'local cluster ready'), 20_000);
  });

  after(() => {
    if (cluster.exitCode === null && cluster.signalCode === null) process.kill(-cluster.pid!, 'SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  it('prints the API key, a curl line and the secret once, and serves a console page for a handler without its own', async () => {
    assert.match(String(ready.apiKey), /^[\w-]{32}$/);
    assert.match(String(ready.secret), /^[\w-]{32}$/);
    assert.ok(String(ready.curl).includes(`Bearer ${String(ready.apiKey)}`));
    assert.equal(raw.filter((line) => line.includes(String(ready.apiKey))).length, 1, 'the key appears once');
    const page = await (await fetch(`http://${HOST}:7272/`)).text();
    assert.match(page, /GatewayCluster console/);
  });

  it('lets a handler anywhere refuse a connection with RefuseConnection imported from gateway-cluster', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://${HOST}:7272/?deny`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('error', () => {});
    });
    assert.equal(status, 401);
  });

  it('takes pushes from the printed key (HTTP API) and the printed secret (a Node GatewayClient)', async () => {
    const client = await WsTestClient.open(`ws://${HOST}:7272/`);
    const pushed = await fetch(`http://${HOST}:7280/v1/sendToAll`, {
      method: 'POST',
      headers: { authorization: `Bearer ${String(ready.apiKey)}` },
      body: JSON.stringify({ message: 'over http' }),
    });
    assert.equal(pushed.status, 200);
    await client.next((m) => m === 'over http');
    const gateway = await GatewayClient.connect({ registerAddress: `${HOST}:1236`, secret: String(ready.secret) });
    try {
      assert.equal(await gateway.getAllClientCount(), 1);
    } finally {
      gateway.close();
    }
    client.close();
    await client.waitClosed();
  });

  it('reloads the worker when the handler changes, keeping the client connected, and survives a broken edit', async () => {
    const client = await WsTestClient.open(`ws://${HOST}:7272/`);
    client.send('a');
    await client.next((m) => m === 'v1:a');
    writeHandler('v2');
    await waitFor('the new worker', () => records.some((r) => r.msg === 'new worker connected; the previous one drains and stops'), 15_000);
    // What reached the old worker before its drain request reached the gateway is still its to handle: 'b' goes
    // after it has stopped.
    await waitFor('the previous worker to stop', () => records.some((r) => r.name === 'worker-1' && r.msg === 'stopped'), 15_000);
    client.send('b');
    assert.equal(await client.next((m) => m.endsWith(':b')), 'v2:b');

    writeFileSync(handlerFile, 'export default { onMessage( ');
    await waitFor('the failed reload', () => records.some((r) => r.msg?.startsWith('the new worker did not start')), 15_000);
    client.send('c');
    assert.equal(await client.next((m) => m.endsWith(':c')), 'v2:c');
    assert.equal(client.closed, false, 'the client stayed connected throughout');
    client.close();
    await client.waitClosed();
  });

  it('stops on Ctrl-C within a second, with no warning or error', async () => {
    const from = records.length;
    process.kill(-cluster.pid!, 'SIGINT');
    await waitFor('every process of the local cluster to exit', () => {
      try {
        process.kill(-cluster.pid!, 0);
        return false;
      } catch {
        return true;
      }
    }, 1000, 10).catch((error: Error) => {
      throw new Error(`${error.message}\n${spawnSync('ps', ['-o', 'pid,stat,args', '-g', String(cluster.pid)], { encoding: 'utf8' }).stdout}\n${raw.slice(-15).join('\n')}`);
    });
    const complaints = records.slice(from).filter((r) => r.level === 'warn' || r.level === 'error');
    assert.deepEqual(complaints, []);
    assert.equal(cluster.exitCode, 0);
  });
});

describe('TypeScript handlers', () => {
  it('load where Node.js strips types, and are refused with the reason where it does not', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gwc-ts-')), 'handler.ts');
    writeFileSync(file, "import type { Handler } from 'gateway-cluster';\nconst handler: Handler = { onMessage() {} };\nexport default handler;\n");
    const result = spawnSync(process.execPath, [cliPath, 'worker', '--handler', file, '--register-address', '127.0.0.79:1', '--metrics-port', '0'], {
      env: { PATH: process.env.PATH, GWC_SECRET: 'a-secret-of-enough-length' },
      encoding: 'utf8',
      timeout: 3000,
      killSignal: 'SIGTERM',
    });
    rmSync(path.dirname(file), { recursive: true, force: true });
    if ((process.features as { typescript?: unknown }).typescript) {
      assert.match(result.stdout, /"msg":"ready"/, result.stderr);
    } else {
      assert.equal(result.status, 2);
      assert.match(result.stderr, /TypeScript handler needs Node\.js 22\.18 or newer/);
    }
  });
});
