import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { FrameDecoder, encodeFrame } from '../../runtime/wire/frame-codec.js';
import { NONCE_BYTES, PROTOCOL_VERSION, dialerProof, listenerProof, newNonce, proofsMatch, type Transcript } from '../../runtime/wire/handshake.js';
import { announcedAddress } from '../../runtime/wire/own-address.js';
import { PeerConnection, type PeerOptions } from '../../runtime/wire/peer-connection.js';
import { Op, Role, type Envelope } from '../../runtime/wire/types.js';
import { waitFor } from '../harness/wait.js';

const SECRET = Buffer.from('the-cluster-shared-secret-0123456789');
const OTHER_SECRET = Buffer.from('a-different-secret-9876543210-xyz');
const MAX_FRAME = 64 * 1024;

/** Every socket and peer a test opens, so each test can tear down what it made. */
const sockets = new Set<Socket>();
const servers = new Set<Server>();

/** A PeerConnection with what it reported recorded from the moment it was made (no event can be missed). */
interface Tracked {
  peer: PeerConnection;
  ready: boolean;
  closeReason: string | undefined;
  envelopes: Envelope[];
}

function track(peer: PeerConnection): Tracked {
  const tracked: Tracked = { peer, ready: false, closeReason: undefined, envelopes: [] };
  peer.on('ready', () => (tracked.ready = true));
  peer.on('close', (reason: string) => (tracked.closeReason = reason));
  peer.on('envelope', (envelope: Envelope) => tracked.envelopes.push(envelope));
  return tracked;
}

function options(overrides: Partial<PeerOptions> = {}): PeerOptions {
  return {
    secret: SECRET,
    maxFrameBytes: MAX_FRAME,
    log: createLogger({ role: 'unit-test' }, 'error', () => {}),
    role: Role.Worker,
    name: 'test-peer',
    ...overrides,
  };
}

interface PeerServer {
  port: number;
  /** host:port, the address it accepts being dialled at. */
  address: string;
  accepted: Tracked[];
}

/** A listener (a gateway unless `overrides.role` says otherwise) at its own 127.0.0.1 port. */
async function startPeerServer(overrides: Partial<PeerOptions> = {}): Promise<PeerServer> {
  const accepted: Tracked[] = [];
  let own = announcedAddress('127.0.0.1:1');
  const server = createServer((socket) => {
    sockets.add(socket);
    accepted.push(track(new PeerConnection(socket, { accept: own }, options({ role: Role.Gateway, name: 'test-server', ...overrides }))));
  });
  servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  own = announcedAddress(`127.0.0.1:${port}`);
  return { port, address: `127.0.0.1:${port}`, accepted };
}

/** Dials `port` as a worker that means to reach a gateway at `target` (the address really dialled by default). */
function dial(port: number, overrides: Partial<PeerOptions> = {}, target = { address: `127.0.0.1:${port}`, role: Role.Gateway }): Tracked {
  const socket = connect(port, '127.0.0.1');
  sockets.add(socket);
  return track(new PeerConnection(socket, { dial: target }, options(overrides)));
}

async function nthAccepted(server: PeerServer, index: number): Promise<Tracked> {
  return waitFor(`server to accept connection #${index}`, () => server.accepted[index], 5000);
}

async function closeReasonOf(tracked: Tracked, who: string): Promise<string> {
  return waitFor(`${who} to close`, () => tracked.closeReason, 5000);
}

async function bothReady(server: PeerServer, client: Tracked): Promise<Tracked> {
  await waitFor('client ready', () => client.ready || client.closeReason !== undefined, 5000);
  assert.equal(client.closeReason, undefined, `client closed: ${client.closeReason}`);
  const accepted = await nthAccepted(server, server.accepted.length - 1);
  await waitFor('server side ready', () => accepted.ready, 5000);
  return accepted;
}

/** A bare TCP client that speaks frames by hand, for what a well-behaved PeerConnection would never send. */
class RawClient {
  readonly envelopes: Envelope[] = [];
  ended = false;
  private readonly decoder = new FrameDecoder(1 << 20);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.envelopes.push(decodeEnvelope(frame));
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  send(envelope: Envelope): void {
    this.socket.write(encodeFrame(encodeEnvelope(envelope)));
  }

  /** The first `kind` received; decoded, so every scalar field is there (at its default when it was not sent). */
  async next<K extends keyof Envelope>(kind: K): Promise<Required<NonNullable<Envelope[K]>>> {
    const found = await waitFor(`raw client to receive ${kind}`, () => this.envelopes.find((envelope) => envelope[kind] != null), 5000);
    return found[kind] as unknown as Required<NonNullable<Envelope[K]>>;
  }
}

/** A frame whose payload protobufjs cannot decode: field 1, length 5, but only one byte follows. */
const UNDECODABLE_PAYLOAD = Buffer.from([0x0a, 0x05, 0x01]);

afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers) server.close();
  servers.clear();
});

describe('PeerConnection handshake over loopback', () => {
  it('with the same secret both sides become ready and learn who the other is', async () => {
    const server = await startPeerServer();
    const client = dial(server.port, { role: Role.Worker, name: 'worker-7' });
    const accepted = await bothReady(server, client);
    assert.equal(accepted.peer.remoteRole, Role.Worker);
    assert.equal(accepted.peer.remoteName, 'worker-7');
    assert.equal(client.peer.ready, true);
    assert.equal(accepted.peer.ready, true);
  });

  it('carries envelopes both ways, in order, when many are sent in one tick', async () => {
    const server = await startPeerServer();
    const client = dial(server.port);
    const accepted = await bothReady(server, client);
    const count = 2000;
    for (let i = 1; i <= count; i++) client.peer.send({ command: { op: Op.SendToClient, requestId: i, clientIds: [`c${i}`] } });
    for (let i = 1; i <= count; i++) accepted.peer.send({ reply: { requestId: i, ids: [`r${i}`] } });
    await waitFor('all commands at the server', () => accepted.envelopes.length >= count, 5000);
    await waitFor('all replies at the client', () => client.envelopes.length >= count, 5000);
    assert.equal(accepted.envelopes.length, count);
    assert.equal(client.envelopes.length, count);
    accepted.envelopes.forEach((envelope, i) => {
      assert.equal(envelope.command?.requestId, i + 1);
      assert.deepEqual(envelope.command?.clientIds, [`c${i + 1}`]);
    });
    client.envelopes.forEach((envelope, i) => assert.deepEqual(envelope.reply?.ids, [`r${i + 1}`]));
  });

  it('accepts frames above the pre-handshake limit once authenticated', async () => {
    const server = await startPeerServer();
    const client = dial(server.port);
    const accepted = await bothReady(server, client);
    const body = Buffer.alloc(32 * 1024, 7);
    client.peer.send({ command: { op: Op.SendToAll, body } });
    await waitFor('the large command', () => accepted.envelopes[0], 5000);
    assert.ok(Buffer.from(accepted.envelopes[0]!.command!.body!).equals(body));
  });

  it('refuses a wrong secret on both sides, naming the secret, and neither becomes ready', async () => {
    const server = await startPeerServer();
    const client = dial(server.port, { secret: OTHER_SECRET });
    const clientReason = await closeReasonOf(client, 'client');
    const accepted = await nthAccepted(server, 0);
    const serverReason = await closeReasonOf(accepted, 'server side');
    assert.match(clientReason, /secret/);
    assert.match(serverReason, /secret/);
    assert.equal(client.ready, false);
    assert.equal(accepted.ready, false);
  });

  it('refuses an Auth whose proof is wrong, telling the client why', async () => {
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    raw.send({ hello: { role: Role.Worker, name: 'forger', nonce: newNonce(), version: PROTOCOL_VERSION, target: server.address } });
    await raw.next('challenge');
    raw.send({ auth: { proof: newNonce() } });
    const refused = await raw.next('refused');
    assert.match(refused.reason, /wrong shared secret/);
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /wrong shared secret/);
    assert.equal(accepted.ready, false);
    await waitFor('the server to end the raw connection', () => raw.ended, 5000);
  });

  it('refuses a role that is not accepted here, on both sides', async () => {
    const server = await startPeerServer();
    const client = dial(server.port, { role: Role.Gateway });
    const clientReason = await closeReasonOf(client, 'client');
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /role Gateway may not connect here/);
    assert.match(clientReason, /refused by peer: role Gateway may not connect here/);
    assert.equal(client.ready, false);
    assert.equal(accepted.ready, false);
  });

  it('refuses an unsupported protocol version', async () => {
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    raw.send({ hello: { role: Role.Worker, name: 'future', nonce: newNonce(), version: PROTOCOL_VERSION + 1, target: server.address } });
    assert.match((await raw.next('refused')).reason, /unsupported protocol version/);
    assert.equal(raw.envelopes.some((envelope) => envelope.challenge), false);
  });

  it('refuses a server that answers with a Challenge it cannot prove', async () => {
    // A fake server that does not hold the secret: it answers any Hello with a random proof.
    const fake = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(encodeFrame(encodeEnvelope({ challenge: { nonce: newNonce(), proof: newNonce(), role: Role.Gateway } }))));
    });
    servers.add(fake);
    fake.listen(0, '127.0.0.1');
    await once(fake, 'listening');
    const client = dial((fake.address() as AddressInfo).port);
    assert.match(await closeReasonOf(client, 'client'), /does not hold the shared secret/);
    assert.equal(client.ready, false);
  });
});

describe('PeerConnection protocol violations', () => {
  /** After each violation the server must still complete a handshake with a well-behaved client. */
  async function stillAccepting(server: PeerServer): Promise<void> {
    const client = dial(server.port);
    await bothReady(server, client);
  }

  it('closes a connection that sends garbage before the handshake', async () => {
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    raw.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /^bad frame: /);
    assert.match((await raw.next('refused')).reason, /bad frame/);
    await waitFor('the server to end the raw connection', () => raw.ended, 5000);
    await stillAccepting(server);
  });

  it('closes a connection that declares an oversized frame before the handshake, without waiting for its body', async () => {
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    // 2000 bytes is over the 1 KiB allowed before authentication; only the header is sent.
    raw.socket.write(Buffer.from([0, 0, 0x07, 0xd0]));
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /exceeds the maximum of 1024/);
    await stillAccepting(server);
  });

  it('closes a connection that sends an undecodable frame before the handshake', async () => {
    assert.throws(() => decodeEnvelope(UNDECODABLE_PAYLOAD), 'the payload used here must really be undecodable');
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    raw.socket.write(encodeFrame(UNDECODABLE_PAYLOAD));
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /^undecodable frame: /);
    await stillAccepting(server);
  });

  it('closes a connection that sends something other than Hello first', async () => {
    const server = await startPeerServer();
    const raw = await RawClient.connect(server.port);
    raw.send({ command: { op: Op.SendToAll } });
    const accepted = await nthAccepted(server, 0);
    assert.match(await closeReasonOf(accepted, 'server side'), /expected Hello/);
    await stillAccepting(server);
  });

  it('closes a connection that sends garbage after the handshake', async () => {
    const server = await startPeerServer();
    const client = dial(server.port);
    const accepted = await bothReady(server, client);
    client.peer.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.match(await closeReasonOf(accepted, 'server side'), /^bad frame: /);
    await closeReasonOf(client, 'client');
    await stillAccepting(server);
  });

  it('closes a connection that declares an oversized frame after the handshake', async () => {
    const server = await startPeerServer();
    const client = dial(server.port);
    const accepted = await bothReady(server, client);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME + 1, 0);
    client.peer.socket.write(header);
    assert.match(await closeReasonOf(accepted, 'server side'), new RegExp(`exceeds the maximum of ${MAX_FRAME}`));
    await stillAccepting(server);
  });

  it('closes a connection that sends an undecodable frame after the handshake', async () => {
    const server = await startPeerServer();
    const client = dial(server.port);
    const accepted = await bothReady(server, client);
    client.peer.socket.write(encodeFrame(UNDECODABLE_PAYLOAD));
    assert.match(await closeReasonOf(accepted, 'server side'), /^undecodable frame: /);
    await stillAccepting(server);
  });

  it('closes a client that never sends Hello when the handshake times out', async () => {
    const server = await startPeerServer({ handshakeTimeoutMs: 200 });
    const raw = await RawClient.connect(server.port);
    const accepted = await nthAccepted(server, 0);
    assert.equal(await closeReasonOf(accepted, 'server side'), 'handshake timed out');
    await waitFor('the server to end the silent connection', () => raw.ended, 5000);
    await stillAccepting(server);
  });

  it('closes a client that stops after Hello when the handshake times out', async () => {
    const server = await startPeerServer({ handshakeTimeoutMs: 200 });
    const raw = await RawClient.connect(server.port);
    raw.send({ hello: { role: Role.Worker, name: 'stalls', nonce: newNonce(), version: PROTOCOL_VERSION, target: server.address } });
    await raw.next('challenge');
    const accepted = await nthAccepted(server, 0);
    assert.equal(await closeReasonOf(accepted, 'server side'), 'handshake timed out');
    assert.equal(accepted.ready, false);
  });

  it('gives up on a server that never answers when the handshake times out', async () => {
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    servers.add(silent);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const client = dial((silent.address() as AddressInfo).port, { handshakeTimeoutMs: 200 });
    assert.equal(await closeReasonOf(client, 'client'), 'handshake timed out');
    assert.equal(client.ready, false);
  });
});

describe('handshake proofs', () => {
  const transcript: Transcript = {
    dialerRole: Role.Worker,
    listenerRole: Role.Gateway,
    target: '10.1.2.3:2900',
    dialerNonce: newNonce(),
    listenerNonce: newNonce(),
    channelBinding: Buffer.alloc(0),
  };

  it('uses 32-byte nonces that differ each time', () => {
    assert.equal(transcript.dialerNonce.length, NONCE_BYTES);
    assert.equal(NONCE_BYTES, 32);
    assert.ok(!Buffer.from(transcript.dialerNonce).equals(transcript.listenerNonce));
  });

  it('never contains or equals the secret', () => {
    for (const secret of [SECRET, Buffer.alloc(16, 0x61), Buffer.alloc(64, 0x62)]) {
      for (const proof of [listenerProof(secret, transcript), dialerProof(secret, transcript)]) {
        assert.equal(proof.length, 32);
        assert.ok(!proof.equals(secret));
        assert.ok(!proof.includes(secret));
        assert.ok(!proof.includes(secret.subarray(0, 8)));
      }
    }
  });

  it('differs by direction: the dialer and listener labels over the same transcript', () => {
    assert.ok(!listenerProof(SECRET, transcript).equals(dialerProof(SECRET, transcript)));
  });

  it('is deterministic, and depends on the secret', () => {
    assert.ok(dialerProof(SECRET, transcript).equals(dialerProof(Buffer.from(SECRET), { ...transcript })));
    assert.ok(!dialerProof(SECRET, transcript).equals(dialerProof(OTHER_SECRET, transcript)));
  });

  // Each binding: change one field of the transcript and both proofs change.
  const changes: Array<[string, Partial<Transcript>]> = [
    ['the dialer role', { dialerRole: Role.Api }],
    ['the listener role', { listenerRole: Role.Register }],
    ['the roles swapped', { dialerRole: Role.Gateway, listenerRole: Role.Worker }],
    ['the dialed address', { target: '10.1.2.4:2900' }],
    ['the dialed port', { target: '10.1.2.3:2901' }],
    ['the dialer nonce', { dialerNonce: newNonce() }],
    ['the listener nonce', { listenerNonce: newNonce() }],
    ['the nonces swapped', { dialerNonce: transcript.listenerNonce, listenerNonce: transcript.dialerNonce }],
    ['the TLS channel binding', { channelBinding: newNonce() }],
    // Length prefixes: moving bytes from one field into its neighbour is another transcript.
    ['bytes moved between fields', { target: '10.1.2.3:290', dialerNonce: Buffer.concat([Buffer.from('0'), transcript.dialerNonce]) }],
  ];
  for (const [what, change] of changes) {
    it(`binds ${what}`, () => {
      const other = { ...transcript, ...change };
      assert.ok(!listenerProof(SECRET, transcript).equals(listenerProof(SECRET, other)));
      assert.ok(!dialerProof(SECRET, transcript).equals(dialerProof(SECRET, other)));
    });
  }

  it('proofsMatch accepts only the exact proof', () => {
    const expected = listenerProof(SECRET, transcript);
    assert.equal(proofsMatch(expected, Buffer.from(expected)), true);
    assert.equal(proofsMatch(expected, undefined), false);
    assert.equal(proofsMatch(expected, new Uint8Array(0)), false);
    assert.equal(proofsMatch(expected, expected.subarray(0, 31)), false);
    assert.equal(proofsMatch(expected, Buffer.concat([expected, Buffer.from([0])])), false);
    assert.equal(proofsMatch(expected, dialerProof(SECRET, transcript)), false);
  });
});

after(() => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
});
