import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LostNodes, nodeLossReason, UNREACHABLE_TAINT } from '../../operator/controller/lost-nodes.js';
import type { KubeObject } from '../../operator/kube/kube-client.js';

/** A Node object as the API shows it: `ready` is its Ready condition's status (none: no condition yet). */
function node(name: string, ready: 'True' | 'False' | 'Unknown' | 'none', options: { uid?: string; since?: string; unreachable?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: options.uid ?? `uid-${name}` },
    spec: options.unreachable ? { taints: [{ key: UNREACHABLE_TAINT, effect: 'NoExecute' }] } : {},
    status: { conditions: ready === 'none' ? [] : [{ type: 'Ready', status: ready, lastTransitionTime: options.since ?? '2020-01-01T00:00:00Z' }] },
  };
}

/** LostNodes on a clock the test moves. */
function clocked() {
  let now = 1000;
  const lostNodes = new LostNodes(() => now, () => new Date(Date.UTC(2030, 0, 1) + now));
  return { lostNodes, advance: (ms: number) => (now += ms) };
}

describe('LostNodes', () => {
  it('tells why a node is lost, and never calls a Ready node lost whatever its taints', () => {
    assert.equal(nodeLossReason(node('a', 'True')), undefined);
    assert.equal(nodeLossReason(node('a', 'True', { unreachable: true })), undefined, 'Ready wins over a taint not yet lifted');
    assert.equal(nodeLossReason(node('a', 'False')), 'NodeNotReady');
    assert.equal(nodeLossReason(node('a', 'False', { unreachable: true })), 'NodeUnreachable');
    assert.equal(nodeLossReason(node('a', 'Unknown')), 'NodeUnreachable');
    assert.equal(nodeLossReason(node('a', 'none')), 'NodeUnreachable');
  });

  it('counts from when it first saw the node lost, on its own clock, whatever lastTransitionTime says', () => {
    const { lostNodes, advance } = clocked();
    // One condition written long ago, one by a clock far ahead of ours: neither shortens or stretches the count.
    for (const since of ['2001-01-01T00:00:00Z', '2999-01-01T00:00:00Z']) {
      const lost = node(`n-${since}`, 'Unknown', { since });
      assert.equal(lostNodes.observe(lost), true);
      assert.equal(lostNodes.lost(lost.metadata.name, lost)?.lostMs, 0);
      advance(5000);
      assert.deepEqual(lostNodes.lost(lost.metadata.name, lost)?.lostMs, 5000);
    }
  });

  it('ends the count when the node is Ready again, and starts from zero when it is lost again', () => {
    const { lostNodes, advance } = clocked();
    assert.equal(lostNodes.observe(node('n', 'True')), false, 'a Ready node is no news');
    assert.equal(lostNodes.observe(node('n', 'False', { since: 't1' })), true);
    advance(30_000);
    assert.equal(lostNodes.observe(node('n', 'False', { since: 't1' })), false, 'the same spell seen again (another resourceVersion) goes on');
    assert.equal(lostNodes.lost('n', node('n', 'False'))?.lostMs, 30_000);
    assert.equal(lostNodes.observe(node('n', 'True', { since: 't2' })), true);
    assert.equal(lostNodes.lost('n', node('n', 'True')), undefined);
    advance(1000);
    lostNodes.observe(node('n', 'False', { since: 't3' }));
    assert.equal(lostNodes.lost('n', node('n', 'False'))?.lostMs, 0);
  });

  it('starts again on a spell it did not see begin: a new lastTransitionTime (a missed flap) or a new node of the same name', () => {
    const { lostNodes, advance } = clocked();
    lostNodes.observe(node('n', 'Unknown', { since: 't1' }));
    advance(50_000);
    assert.equal(lostNodes.observe(node('n', 'Unknown', { since: 't2' })), true);
    assert.equal(lostNodes.lost('n', node('n', 'Unknown'))?.lostMs, 0);
    advance(50_000);
    assert.equal(lostNodes.observe(node('n', 'Unknown', { since: 't2', uid: 'another' })), true);
    assert.equal(lostNodes.lost('n', node('n', 'Unknown'))?.lostMs, 0);
  });

  it('counts a deleted node as lost: from its loss when it was lost before, from now when it was Ready or never seen', () => {
    const { lostNodes, advance } = clocked();
    const lost = node('lost', 'Unknown');
    lostNodes.observe(lost);
    advance(10_000);
    assert.equal(lostNodes.removed(lost), false, 'the same loss');
    assert.deepEqual(lostNodes.lost('lost', undefined), { reason: 'NodeDeleted', lostMs: 10_000, since: '2030-01-01T00:00:01.000Z' });
    assert.equal(lostNodes.removed(node('ready', 'True')), true);
    assert.equal(lostNodes.lost('unseen', undefined)?.lostMs, 0, 'a pod on a node the synced cache never held');
    advance(2000);
    assert.equal(lostNodes.lost('ready', undefined)?.lostMs, 2000);
    assert.equal(lostNodes.lost('unseen', undefined)?.lostMs, 2000);
    lostNodes.prune((name) => name === 'unseen');
    assert.equal(lostNodes.lost('ready', node('ready', 'True')), undefined, 'pruned: no pod is on it any more');
    assert.equal(lostNodes.lost('unseen', undefined)?.lostMs, 2000, 'kept while a pod is on it');
  });

  it('confirms with what the API says now: Ready ends the loss, a new spell restarts it, a deletion keeps its count', () => {
    const { lostNodes, advance } = clocked();
    for (const name of ['a', 'b', 'c']) lostNodes.observe(node(name, 'Unknown', { since: 't1' }));
    advance(60_000);
    assert.equal(lostNodes.confirm('a', node('a', 'True')), undefined);
    assert.equal(lostNodes.lost('a', node('a', 'Unknown')), undefined, 'a stale cache does not bring it back');
    assert.equal(lostNodes.confirm('b', node('b', 'Unknown', { since: 't2' }))?.lostMs, 0);
    assert.deepEqual(lostNodes.confirm('c', undefined)?.lostMs, 60_000);
    assert.equal(lostNodes.confirm('c', undefined)?.reason, 'NodeDeleted');
    assert.equal(lostNodes.confirm('d', undefined)?.lostMs, 0, 'a node first known lost from the API counts from now');
  });
});
