/**
 * Who may change a gateway's client, read from the sources: a Client's own state is private to it (the compiler holds
 * that), and the two parts that belong to others are reached only by their owners: the delivery state by event
 * delivery (and, through it, the router), the membership by the ClientRegistry. A client is ended only through
 * Client.close(disconnect), with a row of disconnects.ts: no close code is written anywhere else.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../runtime/assets.js';
import { CLOSED_TRANSPORT } from '../../runtime/gateway/client-transport.js';
import { testClient, testClientContext } from '../fixtures/gateway-parts.js';
import { countInHeap } from '../harness/heap-snapshot.js';

const ROOT = packageRoot();

function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of ['runtime', 'operator']) {
    for (const file of readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts') && !file.endsWith('.d.ts')) files.set(path.join(folder, file).split(path.sep).join('/'), readFileSync(path.join(ROOT, folder, file), 'utf8'));
    }
  }
  return files;
}

/** The files in which `pattern` occurs. */
function filesMatching(files: Map<string, string>, pattern: RegExp): string[] {
  return [...files].filter(([, text]) => pattern.test(text)).map(([file]) => file).sort();
}

describe('who may change a gateway client', () => {
  const files = sources();

  it('reads the sources', () => {
    assert.ok(files.has('runtime/gateway/client.ts'), 'client.ts is where this test thinks it is');
    assert.ok(files.size > 100);
  });

  it('the delivery state is reached only by event delivery (and the client that holds it)', () => {
    assert.deepEqual(filesMatching(files, /\.deliveryState\b|delivery-state\.js/), [
      'runtime/gateway/client.ts',
      'runtime/gateway/event-delivery.ts',
      'runtime/gateway/worker-link.ts',
    ]);
  });

  it('the delivery state\'s members are not reached on a client but through .deliveryState (it is the client\'s base class)', () => {
    const members = /\bclient\??\.(workerKey|countedAt|inFlight|suspectAt|waiting|holdFirst|hold|shift|replace|closed)\b/;
    // The router names what it routes `client` (a Routable); delivery-state.ts is the part itself.
    assert.deepEqual(filesMatching(files, members), ['runtime/gateway/router.ts']);
  });

  it('a client and its delivery state are one object (a connection costs a header and two pointers less)', async () => {
    const context = testClientContext();
    const clients = Array.from({ length: 50 }, (_, i) => testClient(`c${i}`, CLOSED_TRANSPORT, context));
    // Its prototype is the one DeliveryState left; there was one more per client.
    assert.ok((await countInHeap('object', 'DeliveryState')) <= 1);
    assert.equal(clients[0]!.deliveryState.inFlight, 0);
  });

  it('the membership (uid and groups) is changed only by the ClientRegistry', () => {
    assert.deepEqual(filesMatching(files, /\.membership\b/), ['runtime/gateway/client-registry.ts']);
  });

  it('no close code is passed as a literal: they come from disconnects.ts', () => {
    assert.deepEqual(filesMatching(files, /\bclose\(\s*1\d{3}\b/), []);
  });
});
