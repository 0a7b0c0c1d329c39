/**
 * GatewayWorker's own PHP GatewayClient (unchanged, driven by php-cli) against a cluster with GatewayWorker
 * compatibility on: every command, its effect seen by WebSocket clients and the handler, its answer compared with
 * GatewayWorker's (recorded from the real GatewayWorker, test/fixtures/gatewayworker-answers.json), sessions both
 * ways, and the compat ports against hostile input.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Cmd, encodeGatewayFrame, FLAG_BODY_IS_SCALAR } from '../../runtime/compat/gateway-protocol.js';
import { connectionOf } from '../../runtime/compat/gateway-commands.js';
import { MAX_SESSION_DEPTH } from '../../runtime/wire/session-depth.js';
import { runGatewayClientScenario } from '../harness/gatewayclient-scenario.js';
import { PhpGatewayClient } from '../harness/php-gatewayclient.js';
import { GATEWAYWORKER_ANSWERS } from '../harness/record-gatewayworker.js';
import { INTERNAL_PORT, TestCluster } from '../harness/test-cluster.js';
import { TestCa } from '../harness/test-certs.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';
import { claimSubnet } from '../harness/subnets.js';

const COMPAT_SECRET = 'compat-secret-0123456789';
const cliPath = fileURLToPath(new URL('../../runtime/cli.js', import.meta.url));
const COMPAT_PORT = 1237;
const compatEnv = { GWC_GATEWAYWORKER_COMPAT: 'true', GWC_GATEWAYWORKER_SECRET: COMPAT_SECRET };

/** How many times the process counted a refusal for `reason` (gwc_gatewayworker_refused_total). */
async function refusals(metricsUrl: string, reason: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith('gwc_gatewayworker_refused_total{') && l.includes(`reason="${reason}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Writes `bytes` on a fresh connection to `address` and waits for the peer to close it; returns what it answered. */
async function closedAfter(host: string, port: number, bytes: Buffer[]): Promise<Buffer> {
  const socket: Socket = connect({ host, port });
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const chunk of bytes) socket.write(chunk);
  try {
    await withTimeout(`the peer to close the connection to ${host}:${port}`, new Promise<void>((resolve) => socket.once('close', () => resolve())), 5000);
  } finally {
    socket.destroy();
  }
  return Buffer.concat(received);
}

const auth = (secret = COMPAT_SECRET) =>
  encodeGatewayFrame({ cmd: Cmd.GATEWAY_CLIENT_CONNECT, body: Buffer.from(JSON.stringify({ secret_key: secret })) });

describe('GatewayWorker\'s PHP GatewayClient against GatewayCluster', () => {
  const cluster = new TestCluster({ gateways: 2, workers: 1, env: compatEnv });
  let registerAddress = '';
  before(async () => {
    await cluster.start();
    registerAddress = `${cluster.ip(1)}:${COMPAT_PORT}`;
  });
  after(() => cluster.stop());
  const gatewayMetrics = (index: number) => `http://${cluster.gatewayIp(index)}:9272/metrics`;
  const php = () => new PhpGatewayClient(registerAddress, COMPAT_SECRET);

  it('answers every GatewayClient call as GatewayWorker does, with the effects it has', async () => {
    // The scenario's clients all on gateway 0, as GatewayWorker's single gateway had them; gateway 1 has none.
    const ours = await runGatewayClientScenario({ registerAddress, secretKey: COMPAT_SECRET, wsUrl: `${cluster.gatewayUrl(0)}?bare` });
    const recorded = JSON.parse(readFileSync(GATEWAYWORKER_ANSWERS, 'utf8')) as { answers: typeof ours.answers };
    assert.equal(ours.answers.length, recorded.answers.length);
    ours.answers.forEach((answer, i) => assert.deepEqual(answer, recorded.answers[i], `call ${i}: ${answer.call}`));
  });

  it('merges the answers of every gateway, and sends on each', async () => {
    const client = php();
    const [a, b] = [await WsTestClient.open(`${cluster.gatewayUrl(0)}?bare`), await WsTestClient.open(`${cluster.gatewayUrl(1)}?bare`)];
    try {
      const [idA, idB] = [(await a.request<{ clientId: string }>('whoami')).clientId, (await b.request<{ clientId: string }>('whoami')).clientId];
      assert.notEqual(idA.slice(0, 12), idB.slice(0, 12), 'two gateways');
      await client.call('bindUid', idA, 'u1');
      await client.call('bindUid', idB, 'u2');
      await client.call('sendToUid', ['u1', 'u2'], 'both');
      await Promise.all([a.next((m) => m === 'both'), b.next((m) => m === 'both')]);
      const list = (await client.call('getAllClientIdList')).json as Record<string, string>;
      assert.deepEqual(Object.keys(list).sort(), [idA, idB].sort());
      assert.equal((await client.call('isOnline', idB)).export, '1');
      assert.equal((await client.call('getAllUidCount')).export, '2');
      // $raw: the message arrives as any other (our gateways always frame it for the client's protocol).
      await client.call('sendToAll', 'raw', null, null, true);
      await Promise.all([a.next((m) => m === 'raw'), b.next((m) => m === 'raw')]);
      // With a persistent connection to each gateway, as PHP-FPM backends often set.
      const persistent = new PhpGatewayClient(registerAddress, COMPAT_SECRET, { persistent: true });
      for (let i = 0; i < 5; i++) await persistent.call('sendToClient', idB, `p${i}`);
      for (let i = 0; i < 5; i++) await b.next((m) => m === `p${i}`);
      assert.equal((await persistent.call('getUidByClientId', idB)).json, 'u2');
      persistent.close();
    } finally {
      client.close();
      a.close();
      b.close();
    }
  });

  it('shares sessions with handlers both ways', async () => {
    const client = php();
    const ws = await WsTestClient.open(`${cluster.gatewayUrl(1)}?bare`);
    try {
      const id = (await ws.request<{ clientId: string }>('whoami')).clientId;
      // A GatewayClient command has no answer: the handler sees the change once the gateway has taken it.
      const sessionIs = (expected: unknown) => waitFor(`ctx.session ${JSON.stringify(expected)}`, async () => JSON.stringify(await ws.request('session.get')) === JSON.stringify(expected));
      await client.call('setSession', id, { uid: 7, name: 'a', nested: { list: [1, 2.5, 'x'], flag: false, none: null } });
      await sessionIs({ uid: 7, name: 'a', nested: { list: [1, 2.5, 'x'], flag: false, none: null } });
      await ws.request('session.set', { key: 'fromJs', value: { deep: [true, null, 'é'] } });
      const seen = await client.call('getSession', id);
      assert.equal(
        seen.export,
        "array (\n  'uid' => 7,\n  'name' => 'a',\n  'nested' => \n  array (\n    'list' => \n    array (\n      0 => 1,\n      1 => 2.5,\n      2 => 'x',\n    ),\n    'flag' => false,\n    'none' => NULL,\n  ),\n  'fromJs' => \n  array (\n    'deep' => \n    array (\n      0 => true,\n      1 => NULL,\n      2 => 'é',\n    ),\n  ),\n)",
      );
      // updateSession merges recursively, as GatewayWorker's array_replace_recursive does.
      await client.call('updateSession', id, { nested: { flag: true } });
      await sessionIs({ uid: 7, name: 'a', nested: { list: [1, 2.5, 'x'], flag: true, none: null }, fromJs: { deep: [true, null, 'é'] } });
    } finally {
      client.close();
      ws.close();
    }
  });

  it('refuses a session holding an object of a class, or nested too deep: the connection closes, the session stays', async () => {
    const ws = await WsTestClient.open(`${cluster.gatewayUrl(0)}?bare`);
    const id = (await ws.request<{ clientId: string }>('whoami')).clientId;
    await ws.request('session.set', { key: 'kept', value: 1 });
    const host = cluster.gatewayIp(0);
    const before = await refusals(gatewayMetrics(0), 'argument');
    const withObject = execFileSync('php', ['-r', 'echo serialize(["when" => new DateTime("2020-01-01")]);']);
    const deep = Buffer.from('a:1:{i:0;'.repeat(MAX_SESSION_DEPTH + 1) + 'N;' + '}'.repeat(MAX_SESSION_DEPTH + 1));
    for (const session of [withObject, deep]) {
      await closedAfter(host, INTERNAL_PORT, [auth(), encodeGatewayFrame({ cmd: Cmd.SET_SESSION, connectionId: connectionOf(id), extData: session })]);
    }
    await waitFor('both refusals counted', async () => (await refusals(gatewayMetrics(0), 'argument')) === before + 2);
    const logged = cluster.gateways[0]!.logs.filter((r) => r.msg === 'GatewayWorker connection refused' && r.reason === 'argument').map((r) => String(r.error));
    assert.ok(logged.some((error) => /^CMD_SET_SESSION: a PHP object of class DateTime has no JSON form/.test(error)), logged.join(' | '));
    assert.ok(logged.some((error) => /^CMD_SET_SESSION: nested deeper than 64 levels/.test(error)), logged.join(' | '));
    assert.deepEqual(await ws.request('session.get'), { kept: 1 });
    ws.close();
  });

  it('closes, logs and counts every bad connection on the internal port, and goes on serving', async () => {
    const host = cluster.gatewayIp(1);
    const frameTooLarge = Buffer.alloc(28);
    frameTooLarge.writeUInt32BE(0xffffffff, 0);
    frameTooLarge[4] = Cmd.SEND_TO_ALL;
    const shortHeader = Buffer.alloc(28);
    shortHeader.writeUInt32BE(10, 0);
    shortHeader[4] = Cmd.GATEWAY_CLIENT_CONNECT;
    const extPastEnd = encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, body: Buffer.from('x') });
    extPastEnd.writeUInt32BE(1000, 24);
    const cases: Array<[string, Buffer[], string]> = [
      ['a wrong secret', [auth('not-the-compat-secret'), encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, body: Buffer.from('never') })], 'secret'],
      ['the cluster\'s shared secret', [auth('test-secret-0123456789abcdef')], 'secret'],
      ['a command before the secret', [encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, body: Buffer.from('never') })], 'unauthenticated'],
      ['a length past the frame limit', [frameTooLarge], 'too-large'],
      ['a header shorter than itself', [shortHeader], 'header'],
      ['ext data past the frame', [auth(), extPastEnd], 'header'],
      ['an unknown command', [auth(), encodeGatewayFrame({ cmd: 99 })], 'command'],
      ['a worker registering', [auth(), encodeGatewayFrame({ cmd: Cmd.WORKER_CONNECT, body: Buffer.from(JSON.stringify({ worker_key: 'x', secret_key: COMPAT_SECRET })) })], 'command'],
      ['an event, as a gateway sends a worker', [auth(), encodeGatewayFrame({ cmd: Cmd.ON_MESSAGE, body: Buffer.from('x') })], 'command'],
      ['a uid list that is not JSON', [auth(), encodeGatewayFrame({ cmd: Cmd.SEND_TO_UID, extData: Buffer.from('[nope'), body: Buffer.from('x') })], 'argument'],
      ['a message that is an array', [auth(), encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, flag: 0, body: Buffer.from('a:1:{i:0;i:1;}') })], 'argument'],
    ];
    const ws = await WsTestClient.open(`${cluster.gatewayUrl(1)}?bare`);
    for (const [what, bytes, reason] of cases) {
      const before = await refusals(gatewayMetrics(1), reason);
      const answered = await closedAfter(host, INTERNAL_PORT, bytes);
      assert.equal(answered.length, 0, `${what}: no answer`);
      await waitFor(`${what} counted as ${reason}`, async () => (await refusals(gatewayMetrics(1), reason)) === before + 1);
      assert.ok(cluster.gateways[1]!.logs.some((r) => r.msg === 'GatewayWorker connection refused' && r.reason === reason), `${what}: logged`);
    }
    assert.deepEqual(ws.inbox.slice(0, 3), [], 'nothing a refused connection sent reached a client');
    // Nothing else was affected: the client, the worker and GatewayClient still work.
    ws.send('plain text is echoed');
    await ws.next((m) => m === 'plain text is echoed');
    const client = php();
    const id = (await ws.request<{ clientId: string }>('whoami')).clientId;
    await client.call('sendToClient', id, 'still here');
    await ws.next((m) => m === 'still here');
    assert.equal(cluster.gateways[1]!.alive, true);
    client.close();
    ws.close();
  });

  it('closes, logs and counts bad requests on the Register\'s compat port', async () => {
    const metrics = `http://${cluster.ip(1)}:9236/metrics`;
    const cases: Array<[string, string, string]> = [
      ['a wrong secret', '{"event":"worker_connect","secret_key":"wrong"}\n', 'secret'],
      ['a gateway joining', `{"event":"gateway_connect","address":"${cluster.ip(99)}:2900","secret_key":"${COMPAT_SECRET}"}\n`, 'command'],
      ['a ping before worker_connect', '{"event":"ping"}\n', 'command'],
      ['a request that is not JSON', 'GET / HTTP/1.1\n', 'header'],
      ['a line past the limit', 'x'.repeat(70_000), 'too-large'],
    ];
    for (const [what, line, reason] of cases) {
      const before = await refusals(metrics, reason);
      const answered = await closedAfter(cluster.ip(1), COMPAT_PORT, [Buffer.from(line)]);
      assert.equal(answered.length, 0, `${what}: no answer`);
      await waitFor(`${what} counted as ${reason}`, async () => (await refusals(metrics, reason)) === before + 1);
    }
    const client = php();
    try {
      assert.equal((await client.call('getAllClientCount')).error, undefined, 'the Register still answers GatewayClient');
    } finally {
      client.close();
    }
  });

  it('is off by default: a gateway without it hands GatewayProtocol to the internal handshake, which refuses it', async () => {
    const plain = cluster.adopt(cluster.startGateway(5, ['--gatewayworker-compat', 'false']));
    await plain.waitForLog('ready');
    await cluster.waitForWorkersOnAllGateways();
    const ws = await WsTestClient.open(`${cluster.gatewayUrl(5)}?bare`);
    await closedAfter(cluster.gatewayIp(5), INTERNAL_PORT, [auth(), encodeGatewayFrame({ cmd: Cmd.SEND_TO_ALL, flag: FLAG_BODY_IS_SCALAR, body: Buffer.from('x') })]);
    ws.send('after');
    await ws.next((m) => m === 'after');
    assert.deepEqual(ws.inbox, [], 'the GatewayProtocol send did nothing');
    assert.equal(plain.logs.some((r) => r.msg === 'GatewayWorker connection refused'), false);
    ws.close();
  });
});

describe('GatewayWorker compatibility beside internal mutual TLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gwc-compat-tls-'));
  const node = new TestCa(dir, 'cluster-ca').issue('node', 'gwc-node');
  const cluster = new TestCluster({
    gateways: 1,
    workers: 1,
    env: { ...compatEnv, GWC_INTERNAL_TLS_CERT: node.cert, GWC_INTERNAL_TLS_KEY: node.key, GWC_INTERNAL_TLS_CA: node.ca },
  });
  before(() => cluster.start());
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands TLS connections to the internal TLS server and GatewayProtocol to GatewayClient, on the same port', async () => {
    // The worker reached the gateway over TLS through the port that also speaks GatewayProtocol (cluster.start waited for it).
    const ws = await WsTestClient.open(`${cluster.gatewayUrl(0)}?bare`);
    const { clientId } = await ws.request<{ clientId: string }>('whoami');
    const client = new PhpGatewayClient(`${cluster.ip(1)}:${COMPAT_PORT}`, COMPAT_SECRET);
    await client.call('sendToClient', clientId, 'plain GatewayProtocol beside TLS');
    await ws.next((m) => m === 'plain GatewayProtocol beside TLS');
    assert.equal((await client.call('getAllClientCount')).export, '1');
    client.close();
    ws.close();
  });
});

describe('gwc local --gatewayworker-compat', () => {
  let host = '';
  let local: ChildProcess | undefined;
  after(() => {
    if (local && local.exitCode === null && local.signalCode === null) process.kill(-local.pid!, 'SIGKILL');
  });

  it('prints the two lines a PHP backend sets, which work as printed', async () => {
    host = (await claimSubnet()).ip(200);
    local = spawn(process.execPath, [cliPath, 'local', '--host', host, '--api-port', '0', '--gatewayworker-compat'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, GWC_SECRET: '', GWC_GATEWAYWORKER_SECRET: '', GWC_LOG_FORMAT: 'json' },
    });
    const records: Array<Record<string, unknown>> = [];
    createInterface({ input: local.stdout! }).on('line', (line) => {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    });
    const ready = await waitFor('the local cluster to be ready', () => records.find((r) => r.msg === 'local cluster ready'), 20_000);
    const [, registerAddress, secretKey] = /^Gateway::\$registerAddress = '([^']+)'; Gateway::\$secretKey = '([0-9a-f]{32})';$/.exec(String(ready.gatewayClient)) ?? [];
    assert.equal(registerAddress, `${host}:1237`);
    assert.notEqual(secretKey, ready.secret, 'a secret of its own');
    const ws = await WsTestClient.open(`ws://${host}:7272/`);
    const client = new PhpGatewayClient(registerAddress!, secretKey!);
    const ids = Object.keys((await client.call('getAllClientIdList')).json as Record<string, string>);
    assert.equal(ids.length, 1);
    await client.call('sendToClient', ids[0], 'hello from php');
    await ws.next((m) => m === 'hello from php');
    client.close();
    ws.close();
  });
});
