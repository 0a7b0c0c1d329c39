/**
 * Issue 11's attack, against real processes: an outsider with only the chat port names its own address in a client
 * id, hoping a worker dials it and hands it a session to relay; a relayed handshake between honest processes; and
 * authenticated peers sending what their role may not.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { createLogger } from '../../runtime/observability/log.js';
import type { CloseCause } from '../../runtime/wire/close-cause.js';
import { encodeClientId } from '../../runtime/wire/client-id.js';
import { announcedAddress } from '../../runtime/wire/own-address.js';
import { PeerConnection } from '../../runtime/wire/peer-connection.js';
import { ReconnectingPeer } from '../../runtime/wire/reconnecting-peer.js';
import { EventKind, Op, Role } from '../../runtime/wire/types.js';
import { startRelay, type Relay } from '../harness/handshake-relay.js';
import { claimSubnet } from '../harness/subnets.js';
import { INTERNAL_PORT, REGISTER_PORT, TEST_SECRET, clusterForSuite } from '../harness/test-cluster.js';
import { chatter } from '../harness/chat-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';

// Claimed before the cluster starts: the attacker's addresses are in it.
const subnet = await claimSubnet();
const silentLog = createLogger({ role: 'test' }, 'error', () => {});
const chatHandler = fileURLToPath(new URL('../../runtime/bundled-handlers/chat.js', import.meta.url));

/** An honest process's dialer, in this test process: the real secret, dialling `address` as `role`. */
function honestDialer(role: Role, address: string, expect: Role, name: string): ReconnectingPeer {
  return new ReconnectingPeer(address, expect, { secret: Buffer.from(TEST_SECRET), name, role, log: silentLog, maxFrameBytes: 1 << 20 }, { initialMs: 60_000 });
}

describe('internal trust, on real processes', () => {
  const cluster = clusterForSuite({ subnet, handler: chatHandler, workerArgs: ['--log-level', 'debug'] });
  const attackerHost = cluster.ip(66);
  const relays: Relay[] = [];
  const servers: Server[] = [];
  after(() => {
    for (const relay of relays) relay.close();
    for (const server of servers) server.close();
  });

  it('a client id naming the attacker\'s address opens no connection to it: the private message finds no one', async () => {
    // What the attacker listens on: it would relay whatever the worker sends to the real gateway.
    const relay = await startRelay({ host: attackerHost, port: INTERNAL_PORT, toHost: cluster.gatewayIp(0), toPort: INTERNAL_PORT });
    relays.push(relay);
    const crafted = encodeClientId({ host: attackerHost, port: INTERNAL_PORT, connection: 1 });
    const worker = cluster.workers[0]!;
    const mark = worker.logs.length;
    const mallory = await chatter(cluster.gatewayUrl(0), 'Mallory');
    mallory.send(JSON.stringify({ type: 'say', to: crafted, content: 'hi' }));
    const answer = await mallory.nextJson<{ message: string }>('error', 10_000);
    assert.equal(answer.message, 'that user is not in this room');
    // The handler asked about the crafted id, which reached no one; one event later, still no connection.
    const dropped = await worker.waitForEvent('command-dropped', { gateway: `${attackerHost}:${INTERNAL_PORT}` }, 10_000, mark);
    assert.equal(dropped.level, 'debug');
    mallory.send(JSON.stringify({ type: 'say', to: 'all', content: 'after' }));
    await mallory.nextJson('say', 10_000);
    assert.equal(relay.connections, 0, 'the worker never dialled the address in the client id');
    mallory.close();
  });

  it('a worker\'s dial relayed to the gateway fails on both ends, each logging it', async () => {
    const gateway = cluster.gateways[0]!;
    for (const rewriteTarget of [undefined, `${cluster.gatewayIp(0)}:${INTERNAL_PORT}`]) {
      const relay = await startRelay({ host: attackerHost, toHost: cluster.gatewayIp(0), toPort: INTERNAL_PORT, ...(rewriteTarget ? { rewriteTarget } : {}) });
      relays.push(relay);
      const mark = gateway.logs.length;
      const name = `honest-worker-${rewriteTarget ? 'rewritten' : 'as-is'}`;
      const dialer = honestDialer(Role.Worker, relay.address, Role.Gateway, name);
      const down = once(dialer, 'down') as Promise<[CloseCause, boolean]>;
      dialer.start();
      const [{ detail: reason, code }, wasReady] = await withTimeout('the relayed dial to fail', down, 10_000);
      dialer.stop();
      assert.equal(wasReady, false);
      const refusal = await gateway.waitForEvent('peer-refused', { peerName: name }, 10_000, mark);
      assert.match(String(refusal.remote), new RegExp(`^${attackerHost.replaceAll('.', '\\.')}:`), 'logged with the peer\'s address');
      if (rewriteTarget) {
        assert.match(reason, /authentication failed: the peer at .* relays another connection's handshake/);
        assert.equal(code, 'AUTH_FAILED');
        assert.match(String(refusal.reason), /^peer refused our challenge: authentication failed/);
      } else {
        assert.match(reason, /^refused by peer: dialed ".*", which is not this Gateway/);
        assert.equal(code, 'REFUSED_BY_PEER');
        assert.match(String(refusal.reason), /relayed or misdirected/);
      }
      assert.equal(relay.fromListener.some((envelope) => envelope.welcome), false, 'the gateway never welcomed the relay');
    }
  });

  it('a worker process whose Register address leads to a relay of the real Register fails on both ends', async () => {
    const relay = await startRelay({ host: cluster.ip(67), port: REGISTER_PORT, toHost: cluster.ip(1), toPort: REGISTER_PORT, rewriteTarget: cluster.registerAddress });
    relays.push(relay);
    const mark = cluster.register.logs.length;
    const worker = cluster.adopt(cluster.startWorker(7, ['--register-address', relay.address, '--metrics-port', '0']));
    const refused = await worker.waitForEvent('connection-refused', { address: relay.address }, 10_000);
    assert.match(String(refused.reason), /authentication failed/);
    const refusal = await cluster.register.waitForEvent('peer-refused', { peerName: 'worker7' }, 10_000, mark);
    assert.match(String(refusal.reason), /^peer refused our challenge/);
    assert.equal(relay.fromListener.some((envelope) => envelope.gatewayList), false, 'no gateway list reached the relay');
    await worker.stop('SIGKILL');
  });

  for (const role of [Role.Worker, Role.Api]) {
    it(`an authenticated ${Role[role]} that sends a client event to a gateway is disconnected, and the gateway says why`, async () => {
      const gateway = cluster.gateways[0]!;
      const mark = gateway.logs.length;
      const name = `forger-${Role[role]}`;
      const dialer = honestDialer(role, `${cluster.gatewayIp(0)}:${INTERNAL_PORT}`, Role.Gateway, name).start();
      await dialer.whenReady(5000);
      const down = once(dialer, 'down');
      dialer.send({ event: { kind: EventKind.Message, clientId: encodeClientId({ host: cluster.gatewayIp(0), port: INTERNAL_PORT, connection: 1 }), body: Buffer.from('forged') } });
      await withTimeout('the gateway to disconnect the forger', down, 10_000);
      dialer.stop();
      const refusal = await gateway.waitForEvent('peer-refused', { peerName: name }, 10_000, mark);
      assert.equal(refusal.reason, `unexpected event from a ${Role[role]} (to a Gateway)`);
    });
  }

  it('a peer that is not a gateway cannot announce itself to the Register', async () => {
    const mark = cluster.register.logs.length;
    const dialer = honestDialer(Role.Worker, cluster.registerAddress, Role.Register, 'fake-announcer').start();
    await dialer.whenReady(5000);
    const down = once(dialer, 'down');
    dialer.send({ announce: { address: `${attackerHost}:${INTERNAL_PORT}` } });
    await withTimeout('the Register to disconnect the announcer', down, 10_000);
    dialer.stop();
    const refusal = await cluster.register.waitForEvent('peer-refused', { peerName: 'fake-announcer' }, 10_000, mark);
    assert.equal(refusal.reason, 'unexpected announce from a Worker (to a Register)');
    assert.equal(cluster.register.hasEvent('gateway-joined', { address: `${attackerHost}:${INTERNAL_PORT}` }), false);
  });

  describe('a gateway (holding the secret) that sends a command to a worker', () => {
    const rogueIp = cluster.ip(68);
    let rogueRegisterLink: ReconnectingPeer;
    let rogueServer: Server;

    before(async () => {
      // It listens like a gateway and sends a command to every worker that connects, then announces itself.
      rogueServer = createServer((socket) => {
        const conn = new PeerConnection(socket, { accept: announcedAddress(`${rogueIp}:${INTERNAL_PORT}`) }, {
          secret: Buffer.from(TEST_SECRET), name: 'rogue-gateway', role: Role.Gateway, log: silentLog, maxFrameBytes: 1 << 20,
        });
        conn.on('ready', () => conn.send({ command: { op: Op.SendToAll, body: Buffer.from('from the rogue') } }));
        conn.on('error', () => {});
      });
      servers.push(rogueServer);
      rogueServer.listen(INTERNAL_PORT, rogueIp);
      await once(rogueServer, 'listening');
      rogueRegisterLink = honestDialer(Role.Gateway, cluster.registerAddress, Role.Register, 'rogue-gateway');
      rogueRegisterLink.on('ready', () => rogueRegisterLink.send({ announce: { address: `${rogueIp}:${INTERNAL_PORT}` } }));
    });
    after(() => rogueRegisterLink?.stop());

    it('is disconnected by the worker, which logs why and goes on serving', async () => {
      const worker = cluster.workers[0]!;
      const mark = worker.logs.length;
      rogueRegisterLink.start();
      const refusal = await worker.waitForEvent('peer-refused', { remote: `${rogueIp}:${INTERNAL_PORT}` }, 10_000, mark);
      assert.equal(refusal.reason, 'unexpected command from a Gateway (to a Worker)');
      const ann = await chatter(cluster.gatewayUrl(0), 'Ann');
      ann.send(JSON.stringify({ type: 'say', to: 'all', content: 'still here' }));
      const said = await ann.nextJson<{ content: string }>('say', 10_000);
      assert.equal(said.content, 'still here');
      ann.close();
      assert.ok(rogueServer.address() as AddressInfo);
    });
  });

  it('the cluster still serves after all of it', async () => {
    await waitFor('every process alive', () => cluster.all().filter((p) => p.label !== 'worker7').every((p) => p.alive), 1000);
    const bob = await chatter(cluster.gatewayUrl(0), 'Bob');
    bob.close();
  });
});
