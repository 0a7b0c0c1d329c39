/**
 * The handshake cannot be relayed: a third party that forwards one honest process's handshake to another (the attack
 * of issue 11) fails on both ends, whatever it rewrites; a dialer reaching another role than it meant is refused; an
 * old peer gets a clear refusal. In-process PeerConnections over loopback, plain and mutual TLS.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import type { CloseCause } from '../../runtime/wire/close-cause.js';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { FrameDecoder, encodeFrame } from '../../runtime/wire/frame-codec.js';
import { startRelay } from '../harness/handshake-relay.js';
import { PROTOCOL_VERSION, newNonce } from '../../runtime/wire/handshake.js';
import { MutualTlsSockets } from '../../runtime/tls/mutual-tls-sockets.js';
import { announcedAddress, listeningAddress } from '../../runtime/wire/own-address.js';
import { PeerConnection, type PeerSide } from '../../runtime/wire/peer-connection.js';
import { plainSockets, type PeerSockets } from '../../runtime/wire/peer-sockets.js';
import { Role, type Envelope } from '../../runtime/wire/types.js';
import { TestCa } from '../harness/test-certs.js';
import { waitFor } from '../harness/wait.js';

const SECRET = Buffer.from('the-cluster-shared-secret-0123456789');
const log = createLogger({ role: 'unit-test' }, 'error', () => {});
const closeables = new Set<{ destroy(): void } | Server>();

interface Ended {
  ready: boolean;
  reason: string | undefined;
}

function watch(peer: PeerConnection): Ended {
  const ended: Ended = { ready: false, reason: undefined };
  peer.on('ready', () => (ended.ready = true));
  peer.on('close', (cause: CloseCause) => (ended.reason = cause.detail));
  return ended;
}

async function listenOn(server: Server): Promise<number> {
  closeables.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A listener of `role` at 127.0.0.1, accepting only its own address; what it accepted is in `accepted`. */
async function listener(role: Role, sockets: PeerSockets = plainSockets) {
  const accepted: Ended[] = [];
  let own = announcedAddress('127.0.0.1:1');
  const server = sockets.createServer((socket) => {
    closeables.add(socket);
    const side: PeerSide = { accept: own };
    accepted.push(watch(new PeerConnection(socket, side, { secret: SECRET, maxFrameBytes: 1 << 20, log, role, name: 'listener' })));
  });
  const port = await listenOn(server);
  own = announcedAddress(`127.0.0.1:${port}`);
  return { port, address: `127.0.0.1:${port}`, accepted };
}

/** A worker dialling `port`, believing it reaches the `role` at `address`. */
function dialer(port: number, address: string, role = Role.Gateway, sockets: PeerSockets = plainSockets): Ended {
  const socket = sockets.connect('127.0.0.1', port);
  closeables.add(socket);
  return watch(new PeerConnection(socket, { dial: { address, role } }, { secret: SECRET, maxFrameBytes: 1 << 20, log, role: Role.Worker, name: 'dialer' }));
}

async function relay(to: number, options: { rewriteTarget?: string; front?: PeerSockets; back?: PeerSockets } = {}) {
  const started = await startRelay({ host: '127.0.0.1', toHost: '127.0.0.1', toPort: to, ...options });
  closeables.add({ destroy: started.close });
  return started;
}

async function bothFail(dialed: Ended, accepted: Ended[]): Promise<{ dialer: string; listener: string }> {
  const dialerReason = await waitFor('the dialer to give up', () => dialed.reason, 5000);
  const listenerSide = await waitFor('the listener to see the connection', () => accepted[0], 5000);
  const listenerReason = await waitFor('the listener to give up', () => listenerSide.reason, 6000);
  assert.equal(dialed.ready, false, 'the dialer never became ready');
  assert.equal(listenerSide.ready, false, 'the listener never became ready');
  return { dialer: dialerReason, listener: listenerReason };
}

afterEach(() => {
  for (const item of closeables) 'destroy' in item ? item.destroy() : item.close();
  closeables.clear();
});

describe('a handshake relayed by a third party (plain TCP)', () => {
  it('without a relay, the same two ends authenticate', async () => {
    const gateway = await listener(Role.Gateway);
    const worker = dialer(gateway.port, gateway.address);
    await waitFor('the worker to be ready', () => worker.ready || worker.reason, 5000);
    assert.equal(worker.ready, true, `closed: ${worker.reason}`);
  });

  it('forwarded as it is: the listener refuses the address the dialer dialled', async () => {
    const gateway = await listener(Role.Gateway);
    const attacker = await relay(gateway.port);
    const { dialer: d, listener: l } = await bothFail(dialer(attacker.port, attacker.address), gateway.accepted);
    assert.match(l, new RegExp(`dialed "${attacker.address}", which is not this Gateway \\(${gateway.address}\\): relayed or misdirected`));
    assert.match(d, /^refused by peer: dialed/);
  });

  it('with the address rewritten to the listener\'s own: the dialer refuses the proof, the listener hears why', async () => {
    const gateway = await listener(Role.Gateway);
    const attacker = await relay(gateway.port, { rewriteTarget: gateway.address });
    const { dialer: d, listener: l } = await bothFail(dialer(attacker.port, attacker.address), gateway.accepted);
    assert.match(d, /authentication failed: the peer at .* does not hold the shared secret, or relays another connection's handshake/);
    assert.match(l, /^peer refused our challenge: authentication failed/);
  });

  it('a dialer that meant to reach a gateway and reached a Register is refused', async () => {
    const register = await listener(Role.Register);
    const { dialer: d } = await bothFail(dialer(register.port, register.address, Role.Gateway), register.accepted);
    assert.match(d, /expected a Gateway at 127\.0\.0\.1:\d+, reached a Register/);
  });

  it('a listener that claims another role in its Challenge fails the proof, which covers the role', async () => {
    const register = await listener(Role.Register);
    const attacker = createServer((inbound) => {
      closeables.add(inbound);
      const outbound = connect(register.port, '127.0.0.1');
      closeables.add(outbound);
      inbound.pipe(outbound);
      const decoder = new FrameDecoder(1 << 20);
      outbound.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) {
          const envelope = decodeEnvelope(frame);
          if (envelope.challenge) envelope.challenge.role = Role.Gateway;
          inbound.write(encodeFrame(encodeEnvelope(envelope)));
        }
      });
      for (const socket of [inbound, outbound]) socket.on('error', () => {});
    });
    const port = await listenOn(attacker);
    // The Register accepts any address here: only the role in the Challenge is forged.
    const worker = dialer(port, register.address, Role.Gateway);
    const reason = await waitFor('the worker to give up', () => worker.reason, 5000);
    assert.match(reason, /authentication failed/);
    assert.equal(worker.ready, false);
  });

  it('an old peer (protocol 2) gets a refusal naming both versions', async () => {
    const gateway = await listener(Role.Gateway);
    const socket = connect(gateway.port, '127.0.0.1');
    closeables.add(socket);
    await once(socket, 'connect');
    const received: Envelope[] = [];
    const decoder = new FrameDecoder(1 << 20);
    socket.on('data', (chunk: Buffer) => received.push(...decoder.push(chunk).map(decodeEnvelope)));
    socket.write(encodeFrame(encodeEnvelope({ hello: { role: Role.Worker, name: 'old', nonce: newNonce(), version: 2, target: gateway.address } })));
    const refused = await waitFor('a Refused', () => received.find((envelope) => envelope.refused)?.refused, 5000);
    assert.equal(refused.reason, `unsupported protocol version 2: this Gateway speaks version ${PROTOCOL_VERSION}`);
  });
});

describe('the Register\'s own address', () => {
  it('accepts the names it is given and nothing else', () => {
    const own = listeningAddress('0.0.0.0', 1236, ['chat-register.demo.svc:1236']);
    assert.equal(own.matches('chat-register.demo.svc:1236'), true);
    assert.equal(own.matches('CHAT-register.demo.svc:1236'), true, 'names are not case-sensitive');
    assert.equal(own.matches('chat-register.demo.svc:1237'), false);
    assert.equal(own.matches('127.0.0.1:1236'), false, 'given names, only those');
    assert.equal(own.matches('evil.example:1236'), false);
  });

  it('without names: the address it listens on, or any local address on its port when listening on a wildcard', () => {
    const specific = listeningAddress('127.0.5.1', 1236, []);
    assert.equal(specific.matches('127.0.5.1:1236'), true);
    assert.equal(specific.matches('127.0.5.2:1236'), false);
    const wildcard = listeningAddress('0.0.0.0', 1236, []);
    assert.equal(wildcard.matches('127.0.0.1:1236'), true);
    assert.equal(wildcard.matches('localhost:1236'), true);
    assert.equal(wildcard.matches('127.0.0.1:1237'), false);
    assert.equal(wildcard.matches('203.0.113.9:1236'), false, 'not an address of this host');
    assert.equal(wildcard.matches('register.example:1236'), false, 'a name it was not given');
  });

  it('a gateway matches its announced address in any spelling of the same IP, and nothing else', () => {
    const own = announcedAddress('[fd00::5]:2900');
    assert.equal(own.matches('[fd00:0:0::5]:2900'), true);
    assert.equal(own.matches('[fd00::6]:2900'), false);
    assert.equal(announcedAddress('10.0.0.5:2900').matches('[::ffff:10.0.0.5]:2900'), true);
    assert.equal(announcedAddress('10.0.0.5:2900').matches('garbage'), false);
  });
});

describe('a handshake relayed between two TLS sessions (the relay holds a valid cluster certificate)', () => {
  let dir: string;
  let material: { cert: string; key: string; ca: string };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gwc-relay-tls-'));
    const issued = new TestCa(dir, 'cluster-ca').issue('peer', 'peer');
    material = { cert: readFileSync(issued.cert, 'utf8'), key: readFileSync(issued.key, 'utf8'), ca: readFileSync(issued.ca, 'utf8') };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('direct over TLS: authenticated', async () => {
    const tls = new MutualTlsSockets(material, log);
    const gateway = await listener(Role.Gateway, tls);
    const worker = dialer(gateway.port, gateway.address, Role.Gateway, tls);
    await waitFor('the worker to be ready', () => worker.ready || worker.reason, 5000);
    assert.equal(worker.ready, true, `closed: ${worker.reason}`);
  });

  it('relayed unchanged to a dialer that was sent to it for the right address: only the TLS binding differs, and both ends refuse', async () => {
    // As if DNS or routing sent the worker's connection for the gateway's own address to the attacker.
    const tls = new MutualTlsSockets(material, log);
    const gateway = await listener(Role.Gateway, tls);
    const attacker = await relay(gateway.port, { front: tls, back: tls });
    const { dialer: d, listener: l } = await bothFail(dialer(attacker.port, gateway.address, Role.Gateway, tls), gateway.accepted);
    assert.match(d, /authentication failed/);
    assert.match(l, /^peer refused our challenge: authentication failed/);
  });
});
