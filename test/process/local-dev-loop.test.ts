import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { SupervisedProcess } from '../../runtime/supervisor/supervised-process.js';
import { cliPath, type LogRecord } from '../harness/role-process.js';
import { claimSubnet } from '../harness/subnets.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const HOST = (await claimSubnet()).ip(1);
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
  let cluster: SupervisedProcess;
  /** Its records, with its processes' records relayed among them. */
  let records: LogRecord[];
  /** Its stdout lines as written (its stderr is in cluster.stderr). */
  const raw: string[] = [];
  let ready: LogRecord;

  before(async () => {
    writeHandler('v1');
    cluster = new SupervisedProcess({
      label: 'gwc local',
      command: [process.execPath, cliPath, 'local', '--host', HOST, '--handler', handlerFile, '--watch'],
      ownGroup: true,
      env: { ...process.env, GWC_SECRET: '', GWC_API_KEY: '' },
    });
    records = cluster.records;
    cluster.onRecord((_record, line) => raw.push(line));
    ready = await cluster.waitForEvent('ready', { role: 'local' }, 20_000);
  });

  after(async () => {
    await cluster.stop('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  });

  it('prints the API key, a curl line and the secret once, and serves a console page for a handler without its own', async () => {
    assert.match(String(ready.apiKey), /^[\w-]{32}$/);
    assert.match(String(ready.secret), /^[\w-]{32}$/);
    assert.ok(String(ready.curl).includes(`Bearer ${String(ready.apiKey)}`));
    assert.equal([...raw, ...cluster.stderr].filter((line) => line.includes(String(ready.apiKey))).length, 1, 'the key appears once');
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
    await cluster.waitForEvent('worker-reloaded', { role: 'local' }, 15_000);
    // What reached the old worker before its drain request reached the gateway is still its to handle: 'b' goes
    // after it has stopped.
    await cluster.waitForEvent('stopped', { name: 'worker-1' }, 15_000);
    client.send('b');
    assert.equal(await client.next((m) => m.endsWith(':b')), 'v2:b');

    writeFileSync(handlerFile, 'export default { onMessage( ');
    await cluster.waitForEvent('reload-failed', { role: 'local' }, 15_000);
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
      throw new Error(`${error.message}\n${spawnSync('ps', ['-o', 'pid,stat,args', '-g', String(cluster.pid)], { encoding: 'utf8' }).stdout}\n${cluster.lastLines(15).join('\n')}`);
    });
    const exit = await cluster.exited;
    const complaints = records.slice(from).filter((r) => r.level === 'warn' || r.level === 'error');
    assert.deepEqual(complaints, []);
    assert.equal(exit.code, 0);
  });
});

describe('TypeScript handlers', () => {
  it('load where Node.js strips types, and are refused with the reason where it does not', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gwc-ts-')), 'handler.ts');
    writeFileSync(file, "import type { Handler } from 'gateway-cluster';\nconst handler: Handler = { onMessage() {} };\nexport default handler;\n");
    const result = spawnSync(process.execPath, [cliPath, 'worker', '--handler', file, '--register-address', `${HOST}:1`, '--metrics-port', '0'], {
      env: { PATH: process.env.PATH, GWC_SECRET: 'a-secret-of-enough-length' },
      encoding: 'utf8',
      timeout: 3000,
      killSignal: 'SIGTERM',
    });
    rmSync(path.dirname(file), { recursive: true, force: true });
    if ((process.features as { typescript?: unknown }).typescript) {
      assert.match(result.stdout, /"logEvent":"ready"/, result.stderr);
    } else {
      assert.equal(result.status, 2);
      assert.match(result.stderr, /TypeScript handler needs Node\.js 22\.18 or newer/);
    }
  });
});
