import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { createLogger } from '../../runtime/observability/log.js';
import { encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { encodeFrame } from '../../runtime/wire/frame-codec.js';
import { ReconnectingPeer } from '../../runtime/wire/reconnecting-peer.js';
import { MAX_SESSION_DEPTH } from '../../runtime/wire/session-depth.js';
import { Op, Role, type Envelope } from '../../runtime/wire/types.js';
import { deepSessionJson } from '../harness/deep-json.js';
import { RoleProcess } from '../harness/role-process.js';
import { CLIENT_PORT, INTERNAL_PORT, REGISTER_PORT, TEST_SECRET, TestCluster } from '../harness/test-cluster.js';
import { TcpTestClient, WsTestClient, type TestClient } from '../harness/test-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';

const MAX_PAYLOAD = 1024;
const GATEWAY_METRICS_PORT = 9272;
const WRONG_SECRET = 'not-the-cluster-secret-0123456789';
const silentLog = createLogger({ role: 'test' }, 'error', () => {});

/** A raw TCP connection that records what the server sends and whether the server ended it. */
class RawConnection {
  received = Buffer.alloc(0);
  /** The server sent FIN or reset the connection; we never close first. */
  serverClosed = false;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('end', () => (this.serverClosed = true));
    socket.on('error', () => (this.serverClosed = true));
    socket.on('close', () => (this.closed = true));
  }

  static async open(host: string, port: number): Promise<RawConnection> {
    const socket = connect({ host, port });
    await withTimeout(`TCP connect to ${host}:${port}`, new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }));
    return new RawConnection(socket);
  }

  write(...chunks: Buffer[]): void {
    for (const chunk of chunks) if (!this.socket.destroyed) this.socket.write(chunk);
  }

  async waitServerClosed(what: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(`the server to close the connection that sent ${what}`, () => this.serverClosed && this.closed, timeoutMs);
  }
}

/** A 4-byte big-endian length with no payload after it (yet). */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length);
  return header;
}

/** Opens a WebSocket at the byte level: the upgrade request, then whatever frames the test writes. */
async function rawWebSocket(host: string, port: number): Promise<{ raw: RawConnection; headerEnd: number }> {
  const raw = await RawConnection.open(host, port);
  raw.write(Buffer.from([
    'GET / HTTP/1.1', `Host: ${host}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', '',
  ].join('\r\n')));
  await waitFor('the 101 response', () => raw.received.includes('\r\n\r\n'), 10_000);
  assert.match(raw.received.toString('latin1'), /^HTTP\/1\.1 101 /);
  return { raw, headerEnd: raw.received.indexOf('\r\n\r\n') + 4 };
}

/** The status code of the first WebSocket close frame the server sent after the upgrade response. */
async function closeCodeSent(raw: RawConnection, headerEnd: number): Promise<number> {
  const frame = await waitFor('a close frame from the server', () => {
    const rest = raw.received.subarray(headerEnd);
    if (rest.length >= 4 && rest[0] === 0x88) return rest;
    if (raw.closed) throw new Error(`closed without a close frame; got ${rest.toString('hex')}`);
    return undefined;
  }, 10_000);
  return frame.readUInt16BE(2);
}

async function refusedTotal(gatewayIp: string, reason: string): Promise<number> {
  const text = await (await fetch(`http://${gatewayIp}:${GATEWAY_METRICS_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gwc_gateway_connections_refused_total{') && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function assertEchoes(client: TestClient, text: string): Promise<void> {
  client.send(text);
  assert.equal(await client.next((m) => m === text, 10_000), text);
}

describe('hostile input', () => {
  // gateway0: WebSocket; gateway1: text lines; gateway2: frames; gateway3: WebSocket with --max-connections 3.
  const cluster = new TestCluster({ gateways: 1, workers: 1, gatewayArgs: ['--max-payload', String(MAX_PAYLOAD)] });
  before(async () => {
    await cluster.start();
    cluster.gateways.push(
      cluster.startGateway(1, ['--protocol', 'text']),
      cluster.startGateway(2, ['--protocol', 'frame']),
      cluster.startGateway(3, ['--max-connections', '3']),
    );
    await Promise.all(cluster.gateways.map((gateway) => gateway.waitForEvent('health-listening', {}, 15_000)));
    await cluster.waitForWorkersOnAllGateways();
  });
  after(() => cluster.stop());

  const assertAllAlive = () => {
    for (const role of [cluster.register, ...cluster.gateways, ...cluster.workers]) assert.ok(role.alive, `${role.label} is alive`);
  };

  describe('the shared secret', () => {
    it('a worker with another secret is refused by the Register and never reaches a gateway', async () => {
      const mark = cluster.register.logs.length;
      const intruder = cluster.adopt(cluster.startWorker(5, [], { GWC_SECRET: WRONG_SECRET, GWC_NAME: 'intruder' }));
      const refusal = await cluster.register.waitForEvent('peer-refused', { peerName: 'intruder' }, 10_000, mark);
      assert.match(String(refusal.reason), /authentication/i);
      const own = await intruder.waitForEvent('connection-refused', { address: cluster.registerAddress }, 10_000);
      assert.match(String(own.reason), /authentication failed/);
      // Its redial is refused too.
      await waitFor('a second refusal of the intruder', () =>
        cluster.register.events('peer-refused', { peerName: 'intruder' }, mark).length >= 2, 10_000);
      await intruder.stop();
      for (const gateway of cluster.gateways) assert.equal(gateway.hasEvent('worker-connected', { worker: 'intruder' }), false);
    });

    it('a gateway refuses a direct dial with another secret and logs why', async () => {
      const client = await WsTestClient.open(cluster.gatewayUrl(0));
      const { clientId } = await client.request<{ clientId: string }>('whoami', {}, 10_000);
      const mark = cluster.gateways[0]!.logs.length;
      // The gateway's address is in the client id; an intruder dials it directly, as a worker with another secret.
      const intruder = new ReconnectingPeer(`${cluster.gatewayIp(0)}:${INTERNAL_PORT}`, Role.Gateway, {
        secret: Buffer.from(WRONG_SECRET), name: 'intruder-direct', role: Role.Worker, log: silentLog, maxFrameBytes: 1024 * 1024,
      }).start();
      try {
        await assert.rejects(intruder.whenReady(2000), /no connection/);
        assert.equal(intruder.send({ command: { op: Op.SendToClient, clientIds: [clientId], body: Buffer.from('sneaky') } }), false);
        const refusal = await cluster.gateways[0]!.waitForEvent('peer-refused', { peerName: 'intruder-direct' }, 10_000, mark);
        assert.match(String(refusal.reason), /authentication/i);
      } finally {
        intruder.stop();
      }
      await assertEchoes(client, 'after the intruder');
      assert.equal(client.inbox.includes('sneaky'), false);
      client.close();
    });

    it('GatewayClient.connect with another secret rejects, and the Register logs the refusal', async () => {
      const mark = cluster.register.logs.length;
      await assert.rejects(GatewayClient.connect({
        registerAddress: cluster.registerAddress, secret: WRONG_SECRET, name: 'intruder-api', requestTimeoutMs: 2000, log: silentLog,
      }));
      const refusal = await cluster.register.waitForEvent('peer-refused', { peerName: 'intruder-api' }, 10_000, mark);
      assert.match(String(refusal.reason), /authentication/i);
    });

    it('a worker with no secret at all exits with code 2 and says why', async () => {
      const worker = cluster.adopt(new RoleProcess('no-secret', ['worker', '--register-address', cluster.registerAddress, '--metrics-port', '0'], {
        GWC_SECRET: '', GWC_SECRET_FILE: '',
      }));
      await waitFor('the secretless worker to exit', () => worker.exit, 10_000);
      assert.equal(worker.exit!.code, 2);
      assert.match(worker.stderr.join('\n'), /secret/);
    });
  });

  describe('garbage on the internal ports', () => {
    const hugeHello = encodeEnvelope({ hello: { role: Role.Worker, name: 'x'.repeat(100_000), nonce: randomBytes(32), version: 1, target: '' } });
    const cases: Array<[string, Buffer[]]> = [
      ['random garbage', [randomBytes(4096)]],
      ['a frame header declaring 2 GiB', [frameHeader(2 ** 31)]],
      ['a frame of undecodable bytes', [encodeFrame(Buffer.from([0x0f, 0x01, 0x02, 0x03]))]],
      ['a huge Hello before authentication', [encodeFrame(hugeHello)]],
      ['half a frame, then silence', [frameHeader(100), Buffer.alloc(50)]],
    ];

    for (const target of ['register', 'gateway'] as const) {
      it(`the ${target} closes each bad connection and keeps running`, async () => {
        const host = target === 'register' ? cluster.ip(1) : cluster.gatewayIp(0);
        const port = target === 'register' ? REGISTER_PORT : INTERNAL_PORT;
        const listener = target === 'register' ? cluster.register : cluster.gateways[0]!;
        const mark = listener.logs.length;
        await Promise.all(cases.map(async ([what, chunks]) => {
          const raw = await RawConnection.open(host, port);
          raw.write(...chunks);
          await raw.waitServerClosed(what);
        }));
        const refusals = listener.events('peer-refused', {}, mark);
        assert.ok(refusals.length >= 4, `four refusals logged, got ${JSON.stringify(refusals.map((r) => r.reason))}`);
        assertAllAlive();

        const client = await WsTestClient.open(cluster.gatewayUrl(0));
        await assertEchoes(client, `served after garbage on the ${target}`);
        client.close();
        const api = await cluster.api();
        assert.ok((await api.getAllClientCount()) >= 0, 'the internal path still answers queries');
      });
    }
  });

  describe('a session nested too deep from a peer that skipped the check', () => {
    it(`the gateway answers SET_SESSION and UPDATE_SESSION past ${MAX_SESSION_DEPTH} levels with an error naming the limit`, async () => {
      const client = await WsTestClient.open(cluster.gatewayUrl(0));
      const { clientId } = await client.request<{ clientId: string }>('whoami', {}, 10_000);
      const api = await cluster.api();
      await api.setSession(clientId, { kept: true });
      // An API client of the cluster (it holds the secret), writing commands itself rather than through GatewayClient.
      const peer = new ReconnectingPeer(`${cluster.gatewayIp(0)}:${INTERNAL_PORT}`, Role.Gateway, {
        secret: Buffer.from(TEST_SECRET), name: 'deep-sessions', role: Role.Api, log: silentLog, maxFrameBytes: 16 * 1024 * 1024,
      }).start();
      try {
        await peer.whenReady(10_000);
        const replies = new Map<number, string | undefined>();
        peer.on('envelope', (envelope: Envelope) => {
          if (envelope.reply) replies.set(envelope.reply.requestId ?? 0, envelope.reply.error ?? undefined);
        });
        const sessions = [deepSessionJson(MAX_SESSION_DEPTH + 1, 'object'), deepSessionJson(200_000), deepSessionJson(200_000, 'object')];
        let requestId = 0;
        for (const session of sessions) {
          for (const op of [Op.SetSession, Op.UpdateSession]) {
            assert.ok(peer.send({ command: { op, requestId: ++requestId, clientIds: [clientId], session: Buffer.from(session) } }));
          }
        }
        await waitFor('an answer to each command', () => replies.size === requestId, 10_000);
        for (const [id, error] of replies) assert.equal(error, `session is nested deeper than ${MAX_SESSION_DEPTH} levels, the most a session may have`, `command ${id}`);
      } finally {
        peer.stop();
      }
      assert.deepEqual(await api.getSession(clientId), { kept: true });
      await assertEchoes(client, 'served after deep sessions');
      assertAllAlive();
      client.close();
    });
  });

  describe('garbage on the client ports', () => {
    it('a WebSocket message over --max-payload closes that client with 1009; a message at the limit is fine', async () => {
      const ip = cluster.gatewayIp(0);
      const before = await refusedTotal(ip, 'protocol-error');
      const bystander = await WsTestClient.open(cluster.gatewayUrl(0));
      const victim = await WsTestClient.open(cluster.gatewayUrl(0));
      await assertEchoes(victim, 'y'.repeat(MAX_PAYLOAD));
      victim.send('x'.repeat(MAX_PAYLOAD + 1));
      await victim.waitClosed(10_000);
      assert.equal(victim.closeCode, 1009);
      await assertEchoes(bystander, 'unaffected');
      assert.ok((await refusedTotal(ip, 'protocol-error')) > before, 'counted as a protocol error');
      assertAllAlive();
      bystander.close();
    });

    const badFrames: Array<[string, Buffer]> = [
      ['an unmasked client frame', Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')])],
      ['a frame with reserved opcode 3', Buffer.concat([Buffer.from([0x83, 0x85]), randomBytes(4), Buffer.from('hello')])],
    ];
    for (const [what, frame] of badFrames) {
      it(`${what} is answered with close code 1002 and only that socket closes`, async () => {
        const ip = cluster.gatewayIp(0);
        const before = await refusedTotal(ip, 'protocol-error');
        const bystander = await WsTestClient.open(cluster.gatewayUrl(0));
        const { raw, headerEnd } = await rawWebSocket(ip, CLIENT_PORT);
        raw.write(frame);
        assert.equal(await closeCodeSent(raw, headerEnd), 1002);
        raw.socket.end();
        await waitFor('the raw WebSocket to close', () => raw.closed, 10_000);
        await assertEchoes(bystander, 'unaffected');
        assert.equal(bystander.closed, false);
        assert.ok((await refusedTotal(ip, 'protocol-error')) > before, 'counted as a protocol error');
        assertAllAlive();
        bystander.close();
      });
    }

    it('an HTTP garbage request on the WebSocket port gets 400 and is closed', async () => {
      const raw = await RawConnection.open(cluster.gatewayIp(0), CLIENT_PORT);
      raw.write(Buffer.from('THIS IS NOT HTTP AT ALL\r\n\x00\x01\x02\r\n\r\n'));
      await raw.waitServerClosed('an HTTP garbage request');
      assert.match(raw.received.toString('latin1'), /^HTTP\/1\.1 400 /);
      assertAllAlive();
      const client = await WsTestClient.open(cluster.gatewayUrl(0));
      await assertEchoes(client, 'still serving');
      client.close();
    });

    it('a text line over --max-payload closes that connection only', async () => {
      const ip = cluster.gatewayIp(1);
      const before = await refusedTotal(ip, 'protocol-error');
      const bystander = await TcpTestClient.open(ip, CLIENT_PORT, 'text');
      const victim = await TcpTestClient.open(ip, CLIENT_PORT, 'text');
      await assertEchoes(victim, 'z'.repeat(MAX_PAYLOAD));
      victim.send('x'.repeat(MAX_PAYLOAD + 1));
      await victim.waitClosed(10_000);
      await assertEchoes(bystander, 'unaffected');
      assert.ok((await refusedTotal(ip, 'protocol-error')) > before, 'counted as a protocol error');
      assertAllAlive();
      bystander.close();
    });

    it('a frame declaring more than --max-payload closes that connection only', async () => {
      const ip = cluster.gatewayIp(2);
      const before = await refusedTotal(ip, 'protocol-error');
      const bystander = await TcpTestClient.open(ip, CLIENT_PORT, 'frame');
      const victim = await TcpTestClient.open(ip, CLIENT_PORT, 'frame');
      await assertEchoes(victim, 'z'.repeat(MAX_PAYLOAD));
      // Workerman frames count the 4 header bytes in the length.
      victim.socket.write(frameHeader(MAX_PAYLOAD + 4 + 1));
      await victim.waitClosed(10_000);
      await assertEchoes(bystander, 'unaffected');
      assert.ok((await refusedTotal(ip, 'protocol-error')) > before, 'counted as a protocol error');
      assertAllAlive();
      bystander.close();
    });

    it('--max-connections 3: a fourth WebSocket upgrade gets HTTP 503 and the first three keep working', async () => {
      const url = cluster.gatewayUrl(3);
      const before = await refusedTotal(cluster.gatewayIp(3), 'max-connections');
      const first = await Promise.all([0, 1, 2].map(() => WsTestClient.open(url)));
      await assert.rejects(WsTestClient.open(url), /HTTP 503/);
      for (const [i, client] of first.entries()) await assertEchoes(client, `client ${i} works`);
      assert.ok((await refusedTotal(cluster.gatewayIp(3), 'max-connections')) > before, 'counted as max-connections');

      first[0]!.close();
      const replacement = await waitFor('a free slot after one client leaves', async () => WsTestClient.open(url), 10_000);
      await assertEchoes(replacement, 'took the free slot');
      assertAllAlive();
      for (const client of [...first.slice(1), replacement]) client.close();
    });
  });
});
