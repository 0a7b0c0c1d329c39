import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import { decodeEnvelope, encodeEnvelope } from '../../runtime/wire/envelope-codec.js';
import { FrameDecoder, encodeFrame } from '../../runtime/wire/frame-codec.js';
import { NONCE_BYTES, PROTOCOL_VERSION, dialerProof, listenerProof, newNonce, proofsMatch, type Transcript } from '../../runtime/wire/handshake.js';
import { announcedAddress } from '../../runtime/wire/own-address.js';
import type { CloseCause } from '../../runtime/wire/close-cause.js';
import { PeerConnection, type PeerOptions } from '../../runtime/wire/peer-connection.js';
import { Handshake, type HandshakeOptions, type HandshakeStep } from '../../runtime/wire/peer-handshake.js';
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
  peer.on('close', (cause: CloseCause) => (tracked.closeReason = cause.detail));
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

describe('the handshake, without sockets', () => {
  const ADDRESS = '10.1.2.3:2900';
  const own = announcedAddress(ADDRESS);
  /** Through the codec, as over a connection: what the peer decodes is what it gets. */
  const overTheWire = (envelope: Envelope) => decodeEnvelope(encodeEnvelope(envelope));
  const noBinding = () => Buffer.alloc(0);
  const listener = (overrides: Partial<HandshakeOptions> = {}) => new Handshake({ accept: own }, { secret: SECRET, role: Role.Gateway, name: 'test-server', ...overrides }, noBinding);
  const dialer = (overrides: Partial<HandshakeOptions> = {}, target = { address: ADDRESS, role: Role.Gateway }) =>
    new Handshake({ dial: target }, { secret: SECRET, role: Role.Worker, name: 'test-peer', ...overrides }, noBinding);

  type Verdicts = Partial<Record<'dialer' | 'listener', HandshakeStep>>;

  /** Plays both ends against each other, as two PeerConnections would: each answer goes across, a refusal as a Refused. */
  function play(dialing: Handshake, listening: Handshake): Verdicts {
    const ends = { dialer: dialing, listener: listening };
    const verdicts: Verdicts = {};
    let message = dialing.opening();
    let turn: keyof Verdicts = 'listener';
    while (message !== undefined && verdicts[turn] === undefined) {
      const step = ends[turn].receive(overTheWire(message));
      if (step.next !== 'send') verdicts[turn] = step;
      message = step.next === 'refuse' ? { refused: { reason: step.cause.detail } } : 'envelope' in step ? step.envelope : undefined;
      turn = turn === 'dialer' ? 'listener' : 'dialer';
    }
    return verdicts;
  }

  const causeOf = (step: HandshakeStep | undefined) => (step && 'cause' in step ? step.cause : undefined);

  it('with the same secret both sides become ready and learn who the other is', () => {
    const [d, l] = [dialer({ role: Role.Worker, name: 'worker-7', features: ['paged-replies'] }), listener()];
    const outcome = play(d, l);
    assert.equal(outcome.dialer?.next, 'ready');
    assert.equal(outcome.listener?.next, 'ready');
    assert.equal(l.remoteRole, Role.Worker);
    assert.equal(l.remoteName, 'worker-7');
    assert.deepEqual(l.remoteFeatures, ['paged-replies']);
    assert.equal(d.remoteRole, Role.Gateway);
  });

  it('refuses a wrong secret on both sides, naming the secret, and neither becomes ready', () => {
    const outcome = play(dialer({ secret: OTHER_SECRET }), listener());
    assert.equal(causeOf(outcome.dialer)?.code, 'AUTH_FAILED');
    assert.match(causeOf(outcome.dialer)!.detail, /secret/);
    assert.equal(causeOf(outcome.listener)?.code, 'REFUSED_BY_PEER');
    assert.match(causeOf(outcome.listener)!.detail, /secret/);
  });

  it('refuses an Auth whose proof is wrong, telling the client why', () => {
    const l = listener();
    const hello = { hello: { role: Role.Worker, name: 'forger', nonce: newNonce(), version: PROTOCOL_VERSION, target: ADDRESS } };
    assert.ok((l.receive(overTheWire(hello)) as { envelope: Envelope }).envelope.challenge);
    const step = l.receive(overTheWire({ auth: { proof: newNonce() } }));
    assert.equal(step.next, 'refuse');
    assert.equal(causeOf(step)?.code, 'AUTH_FAILED');
    assert.match(causeOf(step)!.detail, /wrong shared secret/);
    assert.equal(l.done, false);
  });

  it('refuses a role that is not accepted here, on both sides', () => {
    const outcome = play(dialer({ role: Role.Gateway }), listener());
    assert.equal(causeOf(outcome.listener)?.code, 'ROLE_NOT_ALLOWED');
    assert.match(causeOf(outcome.listener)!.detail, /role Gateway may not connect here/);
    assert.equal(outcome.dialer?.next, 'close');
    assert.equal(causeOf(outcome.dialer)?.code, 'REFUSED_BY_PEER');
    assert.match(causeOf(outcome.dialer)!.detail, /refused by peer: role Gateway may not connect here/);
  });

  it('refuses an unsupported protocol version', () => {
    const step = listener().receive(overTheWire({ hello: { role: Role.Worker, name: 'future', nonce: newNonce(), version: PROTOCOL_VERSION + 1, target: ADDRESS } }));
    assert.equal(step.next, 'refuse');
    assert.equal(causeOf(step)?.code, 'VERSION_MISMATCH');
    assert.match(causeOf(step)!.detail, /unsupported protocol version/);
  });

  it('refuses a server that answers with a Challenge it cannot prove', () => {
    const d = dialer();
    d.opening();
    const step = d.receive(overTheWire({ challenge: { nonce: newNonce(), proof: newNonce(), role: Role.Gateway } }));
    assert.equal(causeOf(step)?.code, 'AUTH_FAILED');
    assert.match(causeOf(step)!.detail, /does not hold the shared secret/);
    assert.equal(d.done, false);
  });

  it('refuses a dialer that sends something other than Hello first, and a listener that skips the Challenge', () => {
    const step = listener().receive(overTheWire({ command: { op: Op.SendToAll } }));
    assert.equal(causeOf(step)?.code, 'UNEXPECTED_MESSAGE');
    assert.match(causeOf(step)!.detail, /expected Hello/);
    assert.match(causeOf(dialer().receive(overTheWire({ welcome: {} })))!.detail, /expected Challenge/);
  });

  it('refuses a listener of another role than the one dialed, and one that dialed elsewhere', () => {
    const d = dialer({}, { address: ADDRESS, role: Role.Register });
    assert.equal(causeOf(play(d, listener()).dialer)?.code, 'WRONG_PEER_ROLE');
    const misdirected = play(dialer({}, { address: '10.9.9.9:2900', role: Role.Gateway }), listener());
    assert.equal(causeOf(misdirected.listener)?.code, 'MISDIRECTED');
    assert.match(causeOf(misdirected.listener)!.detail, /relayed or misdirected/);
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
