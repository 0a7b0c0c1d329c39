/**
 * Each role may send only its own messages: for every pair of roles that talk, every kind of envelope is sent each
 * way over a real authenticated connection; the allowed ones arrive, any other closes the link naming what was sent.
 * The expectations are written out here, from what each role does, not read from the table under test.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { createLogger } from '../../runtime/observability/log.js';
import type { CloseCause, CloseCode } from '../../runtime/wire/close-cause.js';
import { newNonce } from '../../runtime/wire/handshake.js';
import { announcedAddress } from '../../runtime/wire/own-address.js';
import { PeerConnection } from '../../runtime/wire/peer-connection.js';
import { Role, type Envelope, type EnvelopeKind } from '../../runtime/wire/types.js';
import { waitFor } from '../harness/wait.js';

const SECRET = Buffer.from('the-cluster-shared-secret-0123456789');
const log = createLogger({ role: 'unit-test' }, 'error', () => {});
const open = new Set<Socket | Server>();

const SAMPLES: Record<Exclude<EnvelopeKind, 'heartbeat'>, Envelope> = {
  hello: { hello: { role: Role.Worker, name: 'x', nonce: newNonce(), version: 3, target: 'x:1' } },
  challenge: { challenge: { nonce: newNonce(), proof: newNonce(), role: Role.Gateway } },
  auth: { auth: { proof: newNonce() } },
  welcome: { welcome: {} },
  refused: { refused: { reason: 'no' } },
  announce: { announce: { address: '10.0.0.9:2900' } },
  subscribe: { subscribe: {} },
  gatewayList: { gatewayList: { addresses: ['10.0.0.9:2900'] } },
  event: { event: { kind: 2, clientId: '0a0000090b5400000001', body: Buffer.from('hi') } },
  command: { command: { op: 2, body: Buffer.from('to everyone') } },
  reply: { reply: { requestId: 1, count: 3 } },
  ack: { ack: { sequences: [1, 2] } },
  drain: { drain: {} },
  verdict: { verdict: { sequence: 1, status: 0 } },
  sessionUpdate: { sessionUpdate: { clientId: '0a0000090b5400000001', session: Buffer.from('{}'), sessionVersion: 1 } },
};

/** [dialer, listener, what the dialer may send, what the listener may send back]. */
const LINKS: Array<[Role, Role, EnvelopeKind[], EnvelopeKind[]]> = [
  [Role.Worker, Role.Gateway, ['command', 'ack', 'verdict', 'drain'], ['event', 'reply', 'drain', 'sessionUpdate']],
  [Role.Api, Role.Gateway, ['command'], ['reply']],
  [Role.Gateway, Role.Register, ['announce'], []],
  [Role.Worker, Role.Register, ['subscribe'], ['gatewayList']],
  [Role.Api, Role.Register, ['subscribe'], ['gatewayList']],
];

interface End {
  peer: PeerConnection;
  received: Envelope[];
  reason: string | undefined;
  code: CloseCode | undefined;
}

function end(peer: PeerConnection): End {
  const watched: End = { peer, received: [], reason: undefined, code: undefined };
  peer.on('envelope', (envelope: Envelope) => watched.received.push(envelope));
  peer.on('close', (cause: CloseCause) => {
    watched.reason = cause.detail;
    watched.code = cause.code;
  });
  return watched;
}

async function connected(dialerRole: Role, listenerRole: Role): Promise<{ dialer: End; listener: End }> {
  let accepted: End | undefined;
  let address = '';
  const server = createServer((socket) => {
    open.add(socket);
    accepted = end(new PeerConnection(socket, { accept: announcedAddress(address) }, { secret: SECRET, maxFrameBytes: 1 << 20, log, role: listenerRole, name: 'listener' }));
  });
  open.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  open.add(socket);
  const dialer = end(new PeerConnection(socket, { dial: { address, role: listenerRole } }, { secret: SECRET, maxFrameBytes: 1 << 20, log, role: dialerRole, name: 'dialer' }));
  await waitFor('both ends ready', () => dialer.peer.ready && accepted?.peer.ready, 5000);
  return { dialer, listener: accepted! };
}

afterEach(() => {
  for (const item of open) 'destroy' in item ? item.destroy() : item.close();
  open.clear();
});

for (const [dialerRole, listenerRole, dialerSends, listenerSends] of LINKS) {
  for (const [fromName, toName, allowed, direction] of [
    [Role[dialerRole], Role[listenerRole], dialerSends, 'dialer'],
    [Role[listenerRole], Role[dialerRole], listenerSends, 'listener'],
  ] as const) {
    describe(`${fromName} -> ${toName}`, () => {
      for (const [kind, sample] of Object.entries(SAMPLES) as Array<[EnvelopeKind, Envelope]>) {
        const permitted = allowed.includes(kind);
        it(`${kind}: ${permitted ? 'delivered' : 'closes the link with a reason'}`, async () => {
          const { dialer, listener } = await connected(dialerRole, listenerRole);
          const [sender, receiver] = direction === 'dialer' ? [dialer, listener] : [listener, dialer];
          sender.peer.send(sample);
          sender.peer.send({ heartbeat: {} });
          if (permitted) {
            await waitFor(`${kind} to arrive`, () => receiver.received.length > 0, 5000);
            assert.ok(receiver.received[0]![kind], `received ${JSON.stringify(Object.keys(receiver.received[0]!))}`);
            assert.equal(receiver.reason, undefined);
          } else {
            const reason = await waitFor('the receiver to close the link', () => receiver.reason, 5000);
            assert.equal(reason, `unexpected ${kind} from a ${fromName} (to a ${toName})`);
            assert.equal(receiver.code, 'NOT_PERMITTED');
            assert.equal(receiver.received.length, 0, 'nothing was handed on');
          }
        });
      }
    });
  }
}
