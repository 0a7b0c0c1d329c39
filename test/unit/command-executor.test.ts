import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Client } from '../../runtime/gateway/client.js';
import { ClientRegistry } from '../../runtime/gateway/client-registry.js';
import type { ClientTransport } from '../../runtime/gateway/client-transport.js';
import { executeCommand, type Delivery } from '../../runtime/gateway/command-executor.js';
import { MAX_SESSION_DEPTH } from '../../runtime/wire/session-depth.js';
import { ErrorCode, Op, toNumber, type Command } from '../../runtime/wire/types.js';
import { applySessionChanges, sessionChanges } from '../../runtime/worker/session-changes.js';
import { testClient } from '../fixtures/gateway-parts.js';
import { deepSessionJson } from '../harness/deep-json.js';

/** A fake of the transport side: records what the executor asks it to do, in order. */
class FakeDelivery implements Delivery {
  readonly calls: Array<{ kind: 'deliver' | 'close' | 'destroy' | 'session'; clientId: string; data?: string; binary?: boolean }> = [];

  deliver(client: Client, data: Buffer, binary: boolean): void {
    this.calls.push({ kind: 'deliver', clientId: client.id, data: data.toString(), binary });
  }

  close(client: Client, data: Buffer | undefined, binary: boolean): void {
    this.calls.push({ kind: 'close', clientId: client.id, ...(data ? { data: data.toString() } : {}), binary });
  }

  destroy(client: Client): void {
    this.calls.push({ kind: 'destroy', clientId: client.id });
  }

  sessionChanged(client: Client): void {
    this.calls.push({ kind: 'session', clientId: client.id, data: client.session.toString() });
  }

  deliveredTo(): string[] {
    return this.calls.filter((call) => call.kind === 'deliver').map((call) => call.clientId);
  }
}

/** The executor never touches a client's transport itself (Delivery does); this one fails loudly if it does. */
const untouchedTransport: ClientTransport = {
  remoteAddress: '127.0.0.1',
  remotePort: 1,
  sendMessage: () => assert.fail('executor must go through Delivery'),
  get bufferedBytes(): number {
    return assert.fail('executor must go through Delivery');
  },
  heartbeat: () => assert.fail('executor must not ping'),
  pong: () => assert.fail('executor must not pong'),
  closeWith: () => assert.fail('executor must go through Delivery'),
  destroy: () => assert.fail('executor must go through Delivery'),
  pause: () => assert.fail('executor must not pause clients'),
  resume: () => assert.fail('executor must not resume clients'),
};

let registry: ClientRegistry;
let delivery: FakeDelivery;

function addClients(...ids: string[]): Client[] {
  return ids.map((id) => {
    const client = testClient(id, untouchedTransport);
    registry.add(client);
    return client;
  });
}

function run(command: Command) {
  return executeCommand(command, registry, delivery);
}

const body = (text: string) => Buffer.from(text);
const sorted = <T>(values: Iterable<T>) => [...values].sort();

beforeEach(() => {
  registry = new ClientRegistry();
  delivery = new FakeDelivery();
});

describe('executeCommand: sending', () => {
  it('sends to listed clients, skipping ones that are gone, keeping body and binary flag', () => {
    addClients('a', 'b', 'c');
    assert.equal(run({ op: Op.SendToClient, clientIds: ['a', 'gone', 'c'], body: body('hi'), binary: true }), undefined);
    assert.deepEqual(delivery.calls, [
      { kind: 'deliver', clientId: 'a', data: 'hi', binary: true },
      { kind: 'deliver', clientId: 'c', data: 'hi', binary: true },
    ]);
  });

  it('sends to one uid\'s clients a copy of the message, not a view of the chunk it was read from (which a slow client would keep)', () => {
    const [a, b] = addClients('a', 'b', 'c');
    registry.bindUid(a!, 'alice');
    registry.bindUid(b!, 'alice');
    const chunk = Buffer.alloc(13, '.'); // outside Buffer's pool, as a chunk read from a socket is
    chunk.write('hello', 4);
    const sent: Buffer[] = [];
    const recording = Object.assign(new FakeDelivery(), { deliver: (_client: Client, data: Buffer) => void sent.push(data) });
    executeCommand({ op: Op.SendToUid, uids: ['alice'], body: chunk.subarray(4, 9), binary: true }, registry, recording);
    assert.equal(sent.length, 2);
    assert.equal(sent[0], sent[1], 'one copy for every client');
    assert.equal(sent[0]!.toString(), 'hello');
    assert.notEqual(sent[0]!.buffer, chunk.buffer);
  });

  it('sends to all clients but the excluded ones', () => {
    addClients('a', 'b', 'c', 'd');
    run({ op: Op.SendToAll, excludeClientIds: ['b', 'd', 'gone'], body: body('all') });
    assert.deepEqual(sorted(delivery.deliveredTo()), ['a', 'c']);
    assert.equal(delivery.calls[0]!.binary, false);
  });

  it('sends to all listed clients when onlyListed, minus the excluded ones', () => {
    addClients('a', 'b', 'c', 'd');
    run({ op: Op.SendToAll, onlyListed: true, clientIds: ['a', 'b', 'gone'], excludeClientIds: ['b'], body: body('x') });
    assert.deepEqual(delivery.deliveredTo(), ['a']);
  });

  it('sends to every client of each uid', () => {
    const [a, b, c] = addClients('a', 'b', 'c', 'd');
    registry.bindUid(a!, 'alice');
    registry.bindUid(b!, 'alice');
    registry.bindUid(c!, 'bob');
    run({ op: Op.SendToUid, uids: ['alice', 'bob', 'nobody'], body: body('u') });
    assert.deepEqual(sorted(delivery.deliveredTo()), ['a', 'b', 'c']);
  });

  it('sends to a group once per client even when it is in several of the groups, minus exclusions', () => {
    const [a, b, c, d] = addClients('a', 'b', 'c', 'd', 'e');
    registry.joinGroup(a!, 'g1');
    registry.joinGroup(a!, 'g2');
    registry.joinGroup(b!, 'g1');
    registry.joinGroup(b!, 'g2');
    registry.joinGroup(c!, 'g2');
    registry.joinGroup(d!, 'g3');
    run({ op: Op.SendToGroup, groups: ['g1', 'g2', 'g1', 'empty'], excludeClientIds: ['c'], body: body('g') });
    assert.deepEqual(sorted(delivery.deliveredTo()), ['a', 'b']);
  });

  it('sends to a single group, with exclusions', () => {
    const [a, b] = addClients('a', 'b', 'c');
    registry.joinGroup(a!, 'room');
    registry.joinGroup(b!, 'room');
    run({ op: Op.SendToGroup, groups: ['room'], excludeClientIds: ['a'], body: body('g') });
    assert.deepEqual(delivery.deliveredTo(), ['b']);
  });

  it('closes with and without a final message, and destroys', () => {
    addClients('a', 'b', 'c');
    run({ op: Op.CloseClient, clientIds: ['a'], body: body('bye') });
    run({ op: Op.CloseClient, clientIds: ['b', 'gone'] });
    run({ op: Op.DestroyClient, clientIds: ['c', 'gone'] });
    assert.deepEqual(delivery.calls, [
      { kind: 'close', clientId: 'a', data: 'bye', binary: false },
      { kind: 'close', clientId: 'b', binary: false },
      { kind: 'destroy', clientId: 'c' },
    ]);
  });
});

describe('executeCommand: uids and groups', () => {
  it('binds a uid, and binding another replaces it', () => {
    const [a] = addClients('a');
    run({ op: Op.BindUid, clientIds: ['a'], uids: ['alice'] });
    assert.equal(a!.uid, 'alice');
    run({ op: Op.BindUid, clientIds: ['a'], uids: ['bob'] });
    assert.equal(a!.uid, 'bob');
    assert.equal(registry.byUid.has('alice'), false, 'the old uid index entry is gone');
    assert.deepEqual([...registry.uidClients('bob')].map((client) => client.id), ['a']);
  });

  it('unbinds only the uid the client has', () => {
    const [a] = addClients('a');
    run({ op: Op.BindUid, clientIds: ['a'], uids: ['alice'] });
    run({ op: Op.UnbindUid, clientIds: ['a'], uids: ['bob'] });
    assert.equal(a!.uid, 'alice');
    run({ op: Op.UnbindUid, clientIds: ['a'], uids: ['alice'] });
    assert.equal(a!.uid, undefined);
    assert.equal(registry.byUid.size, 0);
  });

  it('does nothing for a client that is gone', () => {
    addClients('a');
    assert.equal(run({ op: Op.BindUid, clientIds: ['gone'], uids: ['alice'] }), undefined);
    assert.equal(run({ op: Op.JoinGroup, clientIds: ['gone'], groups: ['g'] }), undefined);
    assert.equal(run({ op: Op.SetSession, clientIds: ['gone'], session: body('{"a":1}') }), undefined);
    assert.equal(registry.byUid.size, 0);
    assert.equal(registry.byGroup.size, 0);
  });

  it('joins and leaves groups, dropping an emptied group', () => {
    const [a, b] = addClients('a', 'b');
    run({ op: Op.JoinGroup, clientIds: ['a'], groups: ['g'] });
    run({ op: Op.JoinGroup, clientIds: ['b'], groups: ['g'] });
    run({ op: Op.JoinGroup, clientIds: ['a'], groups: ['g'] });
    assert.equal(registry.byGroup.get('g')?.size, 2);
    run({ op: Op.LeaveGroup, clientIds: ['a'], groups: ['g'] });
    assert.deepEqual([...a!.groups], []);
    assert.deepEqual([...registry.groupClients('g')].map((client) => client.id), ['b']);
    run({ op: Op.LeaveGroup, clientIds: ['b'], groups: ['g'] });
    assert.equal(registry.byGroup.has('g'), false);
    assert.deepEqual([...b!.groups], []);
  });

  it('ungroups: every member leaves, other groups stay', () => {
    const [a, b] = addClients('a', 'b');
    for (const client of [a!, b!]) {
      registry.joinGroup(client, 'doomed');
      registry.joinGroup(client, 'kept');
    }
    run({ op: Op.Ungroup, groups: ['doomed', 'never-existed'] });
    assert.equal(registry.byGroup.has('doomed'), false);
    assert.deepEqual([...a!.groups], ['kept']);
    assert.deepEqual([...b!.groups], ['kept']);
    assert.equal(registry.byGroup.get('kept')?.size, 2);
    run({ op: Op.SendToGroup, groups: ['doomed'], body: body('x') });
    assert.deepEqual(delivery.calls, []);
  });
});

describe('executeCommand: sessions', () => {
  const sessionOf = (client: Client) => JSON.parse(client.session.toString()) as unknown;

  it('sets a session, replacing the old one', () => {
    const [a] = addClients('a');
    assert.equal(run({ op: Op.SetSession, clientIds: ['a'], session: body('{"x":1,"y":2}') }), undefined);
    assert.deepEqual(sessionOf(a!), { x: 1, y: 2 });
    run({ op: Op.SetSession, clientIds: ['a'], session: body('{"z":3}') });
    assert.deepEqual(sessionOf(a!), { z: 3 });
  });

  it('moves the session version on with every write and reports each write, in order', () => {
    const [a] = addClients('a');
    assert.equal(a!.sessionVersion, 0);
    run({ op: Op.SetSession, clientIds: ['a'], session: body('{"x":1}') });
    run({ op: Op.UpdateSession, clientIds: ['a'], session: body('{"y":2}') });
    assert.equal(a!.sessionVersion, 2);
    assert.deepEqual(
      delivery.calls.filter((call) => call.kind === 'session').map((call) => call.data),
      ['{"x":1}', '{"x":1,"y":2}'],
    );
    run({ op: Op.SetSession, clientIds: ['a'], session: body('[1]') });
    assert.equal(a!.sessionVersion, 2, 'a refused write is no write');
  });

  it('updates a session by merging into it', () => {
    const [a] = addClients('a');
    run({ op: Op.UpdateSession, clientIds: ['a'], session: body('{"x":1}') });
    assert.deepEqual(sessionOf(a!), { x: 1 }, 'updating an empty session sets it');
    run({ op: Op.UpdateSession, clientIds: ['a'], session: body('{"y":2,"x":9}') });
    assert.deepEqual(sessionOf(a!), { x: 9, y: 2 });
  });

  it('merges what a worker writes back as the worker reckons it will: one rule on both sides', () => {
    const [a] = addClients('a');
    run({ op: Op.SetSession, clientIds: ['a'], session: body('{"seen":1,"gone":"x","byApi":true}') });
    const changes = sessionChanges({ seen: 1, gone: 'x' }, { seen: 2, fresh: [1] })!;
    run({ op: Op.UpdateSession, clientIds: ['a'], session: body(JSON.stringify(changes.set)), removedSessionKeys: changes.removed });
    assert.deepEqual(sessionOf(a!), { seen: 2, byApi: true, fresh: [1] });
    assert.deepEqual(sessionOf(a!), applySessionChanges({ seen: 1, gone: 'x', byApi: true }, changes));
  });

  it('treats an empty session body as an empty object', () => {
    const [a] = addClients('a');
    run({ op: Op.SetSession, clientIds: ['a'], session: body('{"x":1}') });
    run({ op: Op.SetSession, clientIds: ['a'] });
    assert.deepEqual(sessionOf(a!), {});
  });

  it('stores a session nested as deep as the limit', () => {
    const [a] = addClients('a');
    for (const inner of ['array', 'object'] as const) {
      assert.equal(run({ op: Op.SetSession, clientIds: ['a'], session: body(deepSessionJson(MAX_SESSION_DEPTH, inner)) }), undefined);
      assert.equal(a!.session.toString(), deepSessionJson(MAX_SESSION_DEPTH, inner));
    }
  });

  const tooDeep = new RegExp(`^session is nested deeper than ${MAX_SESSION_DEPTH} levels`);
  for (const [what, bad, message] of [
    ['invalid JSON', '{"x":', /not valid JSON/],
    ['an array', '[1,2]', /must be a JSON object/],
    ['a string', '"text"', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a session one level past the depth limit', deepSessionJson(MAX_SESSION_DEPTH + 1, 'object'), tooDeep],
    ['a session 200,000 levels deep (a peer that skipped the check)', deepSessionJson(200_000), tooDeep],
  ] as const) {
    it(`answers ${what} with an error and keeps the old session`, () => {
      const [a] = addClients('a');
      run({ op: Op.SetSession, clientIds: ['a'], session: body('{"kept":true}') });
      for (const op of [Op.SetSession, Op.UpdateSession]) {
        const reply = run({ op, clientIds: ['a'], session: body(bad) });
        assert.match(reply?.error ?? '', message);
        assert.equal(reply?.errorCode, ErrorCode.BadArgument);
        assert.deepEqual(sessionOf(a!), { kept: true });
      }
    });
  }
});

describe('executeCommand: queries', () => {
  let a: Client, b: Client, c: Client;
  beforeEach(() => {
    [a, b, c] = addClients('a', 'b', 'c') as [Client, Client, Client];
    registry.bindUid(a, 'alice');
    registry.bindUid(b, 'alice');
    registry.bindUid(c, 'carol');
    registry.joinGroup(a, 'g1');
    registry.joinGroup(b, 'g1');
    registry.joinGroup(b, 'g2');
    registry.joinGroup(c, 'g2');
    a.storeSession(Buffer.from('{"n":1}'));
  });

  it('GET_CLIENTS lists every client, with only the fields asked for', () => {
    const plain = run({ op: Op.GetClients })!;
    assert.deepEqual(sorted(plain.clients!.map((info) => info.clientId)), ['a', 'b', 'c']);
    for (const info of plain.clients!) {
      assert.equal(info.uid, undefined);
      assert.equal(info.session, undefined);
    }
    const full = run({ op: Op.GetClients, withSession: true, withUid: true })!;
    const infoA = full.clients!.find((info) => info.clientId === 'a')!;
    assert.equal(infoA.uid, 'alice');
    assert.equal(Buffer.from(infoA.session!).toString(), '{"n":1}');
    const infoC = full.clients!.find((info) => info.clientId === 'c')!;
    assert.equal(infoC.uid, 'carol');
    assert.equal(infoC.session!.length, 0);
  });

  it('GET_CLIENTS of groups lists each member once', () => {
    const reply = run({ op: Op.GetClients, groups: ['g1', 'g2'] })!;
    assert.deepEqual(reply.clients!.map((info) => info.clientId).sort(), ['a', 'b', 'c']);
    assert.deepEqual(run({ op: Op.GetClients, groups: ['g2'] })!.clients!.map((info) => info.clientId).sort(), ['b', 'c']);
  });

  it('GET_CLIENTS of listed ids skips the ones that are gone', () => {
    const reply = run({ op: Op.GetClients, clientIds: ['c', 'gone', 'a'], withUid: true })!;
    assert.deepEqual(reply.clients, [
      { clientId: 'c', uid: 'carol' },
      { clientId: 'a', uid: 'alice' },
    ]);
  });

  it('COUNT_CLIENTS counts all clients or those in groups, each once', () => {
    assert.equal(toNumber(run({ op: Op.CountClients })!.count), 3);
    assert.equal(toNumber(run({ op: Op.CountClients, groups: ['g1'] })!.count), 2);
    assert.equal(toNumber(run({ op: Op.CountClients, groups: ['g1', 'g2'] })!.count), 3);
    assert.equal(toNumber(run({ op: Op.CountClients, groups: ['none'] })!.count), 0);
  });

  it('GET_UIDS lists distinct uids, all or of groups', () => {
    assert.deepEqual(sorted(run({ op: Op.GetUids })!.ids!), ['alice', 'carol']);
    assert.deepEqual(run({ op: Op.GetUids, groups: ['g1'] })!.ids, ['alice']);
    assert.deepEqual(sorted(run({ op: Op.GetUids, groups: ['g1', 'g2'] })!.ids!), ['alice', 'carol']);
  });

  it('GET_GROUPS gives counts, and members when asked', () => {
    const counts = run({ op: Op.GetGroups })!.groups!;
    assert.deepEqual(counts.map((info) => [info.group, info.clientCount]).sort(), [
      ['g1', 2],
      ['g2', 2],
    ]);
    for (const info of counts) {
      assert.equal(info.clientIds, undefined);
      assert.equal(info.uids, undefined);
    }
    const withMembers = run({ op: Op.GetGroups, withMembers: true })!.groups!;
    const g1 = withMembers.find((info) => info.group === 'g1')!;
    assert.deepEqual(sorted(g1.clientIds!), ['a', 'b']);
    assert.deepEqual(g1.uids, ['alice'], 'uids are distinct');
    const g2 = withMembers.find((info) => info.group === 'g2')!;
    assert.deepEqual(sorted(g2.clientIds!), ['b', 'c']);
    assert.deepEqual(sorted(g2.uids!), ['alice', 'carol']);
  });

  it('GET_CLIENTS_BY_UID lists the clients bound to one uid', () => {
    assert.deepEqual(sorted(run({ op: Op.GetClientsByUid, uids: ['alice'] })!.clients!.map((info) => info.clientId)), ['a', 'b']);
    assert.deepEqual(run({ op: Op.GetClientsByUid, uids: ['nobody'] })!.clients, []);
  });

  it('answers an unknown op with an error', () => {
    assert.match(run({ op: 999 as Op })?.error ?? '', /unknown command op 999/);
    assert.equal(run({ op: 999 as Op })?.errorCode, ErrorCode.UnknownOp);
  });
});

describe('ClientRegistry.remove', () => {
  it('cleans the client out of every index and leaves the others', () => {
    const [a, b] = addClients('a', 'b');
    registry.bindUid(a!, 'alice');
    registry.bindUid(b!, 'alice');
    registry.joinGroup(a!, 'solo');
    registry.joinGroup(a!, 'shared');
    registry.joinGroup(b!, 'shared');
    registry.remove(a!);
    assert.equal(registry.get('a'), undefined);
    assert.equal(registry.size, 1);
    assert.deepEqual([...registry.uidClients('alice')], [b]);
    assert.equal(registry.byGroup.has('solo'), false);
    assert.deepEqual([...registry.groupClients('shared')], [b]);
    for (const set of [...registry.byUid.values(), ...registry.byGroup.values()]) assert.equal(set.has(a!), false);

    registry.remove(b!);
    assert.equal(registry.size, 0);
    assert.equal(registry.byUid.size, 0);
    assert.equal(registry.byGroup.size, 0);
    run({ op: Op.SendToUid, uids: ['alice'], body: body('x') });
    run({ op: Op.SendToGroup, groups: ['shared'], body: body('x') });
    run({ op: Op.SendToAll, body: body('x') });
    assert.deepEqual(delivery.calls, []);
  });

  it('ignores a stale Client object whose id now belongs to another', () => {
    const [old] = addClients('a');
    registry.bindUid(old!, 'alice');
    registry.remove(old!);
    const [fresh] = addClients('a');
    registry.bindUid(fresh!, 'bob');
    registry.remove(old!);
    assert.equal(registry.get('a'), fresh);
    assert.deepEqual([...registry.uidClients('bob')], [fresh]);
  });
});
