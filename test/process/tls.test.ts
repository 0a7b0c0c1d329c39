import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { scrapeMetric } from '../harness/metrics.js';
import { RoleProcess } from '../harness/role-process.js';
import { SecretVolume } from '../harness/secret-volume.js';
import { claimSubnet } from '../harness/subnets.js';
import { CLIENT_PORT, INTERNAL_PORT, REGISTER_PORT, TEST_SECRET, TestCluster } from '../harness/test-cluster.js';
import { TcpTestClient, WsTestClient } from '../harness/test-clients.js';
import { TestCa, type IssuedCert } from '../harness/test-certs.js';
import { waitFor, withTimeout } from '../harness/wait.js';

// The client TLS suite's certificates name its gateways' addresses, so its subnet is claimed before the cluster starts.
const clientTlsSubnet = await claimSubnet();

const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber.toUpperCase();
const secretFiles = (cert: IssuedCert) => ({ 'tls.crt': cert.cert, 'tls.key': cert.key, 'ca.crt': cert.ca });
const pem = (cert: IssuedCert) => ({ cert: readFileSync(cert.cert), key: readFileSync(cert.key), ca: readFileSync(cert.ca) });

/** A TLS connection once its handshake is done (rejects on a failed one). */
function openTls(host: string, port: number, options: ConnectionOptions): Promise<TLSSocket> {
  const socket = tlsConnect({ host, port, ...options });
  return withTimeout(`TLS handshake with ${host}:${port}`, new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  }));
}

/** The serial of the certificate a fresh connection is served. */
async function servedSerial(host: string, port: number, ca: Buffer): Promise<string> {
  const socket = await openTls(host, port, { ca });
  const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
  socket.destroy();
  return serial;
}

function httpsStatus(url: string, ca: Buffer): Promise<number> {
  return withTimeout(`GET ${url}`, new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once('error', reject);
  }));
}

async function exitOf(role: RoleProcess): Promise<{ code: number | null; stderr: string[] }> {
  await waitFor(`${role.label} to exit`, () => role.exit, 10_000);
  return { code: role.exit!.code, stderr: role.stderr };
}

describe('client TLS: wss:// and TLS text from a mounted Secret, reloaded without a restart', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gwc-tls-client-'));
  const gatewayIps = [clientTlsSubnet.ip(10), clientTlsSubnet.ip(11)];
  const ca = new TestCa(dir, 'client-ca');
  const first = ca.issue('first', 'gateway-first', gatewayIps);
  const renewed = ca.issue('renewed', 'gateway-renewed', gatewayIps);
  const caPem = readFileSync(ca.cert);
  const volume = new SecretVolume(path.join(dir, 'mounted'), { 'tls.crt': first.cert, 'tls.key': first.key });
  const garbage = path.join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  const cluster = new TestCluster({
    subnet: clientTlsSubnet,
    gateways: 1,
    workers: 1,
    gatewayArgs: ['--tls-cert', volume.path('tls.crt'), '--tls-key', volume.path('tls.key'), '--web-root', 'chat'],
  });
  const wssUrl = `wss://${gatewayIps[0]}:${CLIENT_PORT}/`;
  const reloads = (index: number, result: string) =>
    scrapeMetric(`http://${cluster.gatewayIp(index)}:9272/metrics`, `gwc_gateway_tls_reloads_total{result="${result}",role="gateway"}`);

  before(async () => {
    await cluster.start();
    cluster.gateways.push(cluster.startGateway(1, ['--protocol', 'text']));
    await cluster.gateways[1]!.waitForEvent('ready');
    await cluster.waitForWorkersOnAllGateways();
  });

  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves wss:// and the web root over https, logs the certificate, and refuses plain ws://', async () => {
    const loaded = await cluster.gateways[0]!.waitForEvent('tls-loaded');
    assert.equal(String(loaded.serial).toUpperCase(), serialOf(first.cert));
    assert.match(String(loaded.subject), /CN=gateway-first/);
    assert.equal(typeof loaded.validTo, 'string');

    const client = await WsTestClient.open(wssUrl, { ca: caPem });
    client.send('hello over wss');
    assert.equal(await client.next(), 'hello over wss');
    assert.equal(await httpsStatus(`https://${gatewayIps[0]}:${CLIENT_PORT}/`, caPem), 200);

    await assert.rejects(WsTestClient.open(cluster.gatewayUrl(0)));
    await cluster.gateways[0]!.waitForLog('client connection closed for a protocol error', { reason: 'TLS handshake failed: http request' });
    client.close();
  });

  it('serves the text protocol over TLS', async () => {
    const client = new TcpTestClient(await openTls(gatewayIps[1]!, CLIENT_PORT, { ca: caPem }), 'text');
    client.send('a line over tls');
    assert.equal(await client.next(), 'a line over tls');
    client.close();
  });

  it('takes a renewed certificate swapped in as the kubelet does: new connections get it, open ones stay up', async () => {
    const open = await WsTestClient.open(wssUrl, { ca: caPem });
    assert.equal(await servedSerial(gatewayIps[0]!, CLIENT_PORT, caPem), serialOf(first.cert));

    volume.update({ 'tls.crt': renewed.cert, 'tls.key': renewed.key });
    for (const ip of gatewayIps) {
      await waitFor(`${ip} to serve the renewed certificate`, async () => (await servedSerial(ip, CLIENT_PORT, caPem)) === serialOf(renewed.cert), 10_000, 200);
    }
    open.send('still connected');
    assert.equal(await open.next(), 'still connected');
    assert.equal(await reloads(0, 'ok'), 1);
    assert.equal(await reloads(1, 'ok'), 1);
    assert.ok(cluster.gateways[0]!.logs.some((r) => r.logEvent === 'tls-loaded' && String(r.serial).toUpperCase() === serialOf(renewed.cert)));
    open.close();
  });

  it('keeps serving the certificate it has when the new files are bad (a key of another certificate, garbage)', async () => {
    const gateway = cluster.gateways[0]!;
    const failedBefore = gateway.events('tls-reload-failed').length;
    volume.update({ 'tls.crt': first.cert, 'tls.key': renewed.key });
    const mismatch = await gateway.waitForEvent('tls-reload-failed', {}, 10_000, gateway.logs.length);
    assert.match(String(mismatch.error), /does not belong to certificate/);
    assert.equal(mismatch.level, 'error');

    volume.update({ 'tls.crt': garbage, 'tls.key': renewed.key });
    const invalid = await gateway.waitForEvent('tls-reload-failed', {}, 10_000, gateway.logs.length);
    assert.match(String(invalid.error), /invalid certificate/);

    assert.equal(gateway.events('tls-reload-failed').length, failedBefore + 2, 'each bad change is reported once');
    assert.equal(await reloads(0, 'error'), 2);
    assert.equal(await reloads(0, 'ok'), 1);
    assert.equal(await servedSerial(gatewayIps[0]!, CLIENT_PORT, caPem), serialOf(renewed.cert));
    const client = await WsTestClient.open(wssUrl, { ca: caPem });
    client.send('after a bad reload');
    assert.equal(await client.next(), 'after a bad reload');
    assert.ok(gateway.alive);
    client.close();
  });

  it('exits with code 2 and one line naming the problem for incomplete settings or unusable files', async () => {
    const gateway = (host: number, args: string[]) =>
      cluster.adopt(new RoleProcess(`bad-gateway-${host}`, ['gateway', '--host', cluster.ip(host), '--lan-ip', cluster.ip(host),
        '--register-address', cluster.registerAddress, '--metrics-port', '0', ...args], { GWC_SECRET: TEST_SECRET }));
    const cases: Array<[RoleProcess, RegExp]> = [
      [gateway(40, ['--tls-cert', first.cert]), /--tls-cert, --tls-key go together: missing --tls-key \(GWC_TLS_KEY\)/],
      [gateway(41, ['--tls-cert', path.join(dir, 'missing.crt'), '--tls-key', first.key]), /cannot read .*missing\.crt/],
      [gateway(42, ['--tls-cert', garbage, '--tls-key', first.key]), /invalid certificate .*garbage\.pem/],
      [gateway(43, ['--tls-cert', first.cert, '--tls-key', renewed.key]), /key .*tls\.key does not belong to certificate .*tls\.crt/],
      [
        cluster.adopt(new RoleProcess('bad-register', ['register', '--host', cluster.ip(44), '--metrics-port', '0', '--internal-tls-ca', ca.cert],
          { GWC_SECRET: TEST_SECRET })),
        /missing --internal-tls-cert \(GWC_INTERNAL_TLS_CERT\), --internal-tls-key \(GWC_INTERNAL_TLS_KEY\)/,
      ],
    ];
    for (const [role, expected] of cases) {
      const { code, stderr } = await exitOf(role);
      assert.equal(code, 2, `${role.label} exit code (${stderr.join(' | ')})`);
      assert.equal(stderr.length, 1, `${role.label} wrote one line: ${stderr.join(' | ')}`);
      assert.match(stderr[0]!, expected);
    }
  });
});

describe('internal mutual TLS: Register, Gateway, Worker and API clients', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gwc-tls-internal-'));
  const ca = new TestCa(dir, 'cluster-ca');
  const node = ca.issue('node', 'gwc-node');
  const renewed = ca.issue('node-renewed', 'gwc-node-renewed');
  const rogue = new TestCa(path.join(dir, 'other'), 'other-ca').issue('rogue', 'rogue-worker');
  const volume = new SecretVolume(path.join(dir, 'mounted'), secretFiles(node));
  const cluster = new TestCluster({
    gateways: 1,
    workers: 1,
    env: {
      GWC_INTERNAL_TLS_CERT: volume.path('tls.crt'),
      GWC_INTERNAL_TLS_KEY: volume.path('tls.key'),
      GWC_INTERNAL_TLS_CA: volume.path('ca.crt'),
    },
  });
  const refusals = (role: RoleProcess) => role.events('tls-peer-refused').length;

  before(async () => {
    await cluster.start();
  });

  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the whole cluster over mutual TLS: a client message goes through Gateway and Worker and back', async () => {
    for (const role of cluster.all()) await role.waitForEvent('tls-loaded', { tls: 'internal' });
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('hello over internal tls');
    assert.equal(await client.next(), 'hello over internal tls');
    client.close();
  });

  it('serves an API client with TLS options, and refuses one without at the Register', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    const { clientId } = await client.request<{ clientId: string }>('whoami');
    const api = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, tls: pem(node) });
    try {
      await api.sendToClient(clientId, 'pushed over tls');
      assert.equal(await client.next((m) => m === 'pushed over tls'), 'pushed over tls');
      assert.ok((await api.getAllClientCount()) >= 1);
    } finally {
      api.close();
    }

    const refusedBefore = refusals(cluster.register);
    await assert.rejects(GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, requestTimeoutMs: 1500 }), /no gateway list/);
    await waitFor('the Register to log the plaintext client it refused', () => refusals(cluster.register) > refusedBefore);
    client.close();
  });

  it('refuses a worker with a certificate from another CA, and a plaintext peer, while it keeps serving', async () => {
    const rogueWorker = cluster.adopt(cluster.startWorker(1, [], {
      GWC_INTERNAL_TLS_CERT: rogue.cert,
      GWC_INTERNAL_TLS_KEY: rogue.key,
      GWC_INTERNAL_TLS_CA: node.ca,
    }));
    const refusedBefore = refusals(cluster.register);
    await waitFor('the Register to refuse the rogue worker twice (it redials)', () => refusals(cluster.register) >= refusedBefore + 2, 15_000);
    const refusal = cluster.register.events('tls-peer-refused').at(-1)!;
    assert.equal(refusal.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await rogueWorker.waitForEvent('tls-connection-failed');
    assert.ok(rogueWorker.alive, 'the refused worker keeps retrying');

    const gateway = cluster.gateways[0]!;
    const gatewayRefusals = refusals(gateway);
    const rogueSocket = tlsConnect({ host: cluster.gatewayIp(0), port: INTERNAL_PORT, ...pem(rogue), ca: readFileSync(node.ca), checkServerIdentity: () => undefined });
    rogueSocket.on('error', () => {});
    const plain = netConnect({ host: cluster.gatewayIp(0), port: INTERNAL_PORT }, () => plain.write(Buffer.from([0, 0, 0, 8, 1, 2, 3, 4])));
    plain.on('error', () => {});
    await waitFor('the gateway to log both refusals', () => refusals(gateway) >= gatewayRefusals + 2);
    const reasons = gateway.events('tls-peer-refused').slice(-2).map((r) => r.error).sort();
    assert.deepEqual(reasons, ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'wrong version number']);
    rogueSocket.destroy();
    plain.destroy();

    assert.ok(gateway.alive && cluster.register.alive);
    assert.equal(gateway.events('worker-connected').length, 1, 'only the good worker ever connected');
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    client.send('still serving');
    assert.equal(await client.next(), 'still serving');
    client.close();
    await rogueWorker.stop('SIGKILL');
  });

  it('a TLS dialer facing a plaintext port fails, logs it and keeps retrying', async () => {
    const plainRegister = cluster.adopt(new RoleProcess('plain-register',
      ['register', '--host', cluster.ip(50), '--port', String(REGISTER_PORT), '--metrics-port', '0'], { GWC_SECRET: TEST_SECRET }));
    await plainRegister.waitForEvent('ready');
    const worker = cluster.adopt(cluster.startWorker(2, ['--register-address', `${cluster.ip(50)}:${REGISTER_PORT}`]));
    const failures = () => worker.events('tls-connection-failed');
    await waitFor('the worker to fail its TLS handshake twice', () => failures().length >= 2, 15_000);
    assert.ok(worker.alive && plainRegister.alive);
    await worker.stop('SIGKILL');
  });

  it('reloads the internal certificate without a restart', async () => {
    const client = await WsTestClient.open(cluster.gatewayUrl(0));
    volume.update(secretFiles(renewed));
    const metric = `gwc_internal_tls_reloads_total{result="ok",role="register"}`;
    await waitFor('the Register to reload', async () => (await scrapeMetric(`http://${cluster.ip(1)}:9236/metrics`, metric)) === 1, 10_000, 200);
    const served = await openTls(cluster.ip(1), REGISTER_PORT, { ...pem(renewed), checkServerIdentity: () => undefined });
    assert.equal(served.getPeerCertificate().serialNumber.toUpperCase(), serialOf(renewed.cert));
    served.destroy();

    const api = await GatewayClient.connect({ registerAddress: cluster.registerAddress, secret: TEST_SECRET, tls: pem(renewed) });
    assert.ok((await api.getAllClientCount()) >= 1);
    api.close();
    client.send('across the reload');
    assert.equal(await client.next(), 'across the reload');
    client.close();
  });
});
