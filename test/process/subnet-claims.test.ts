/**
 * Subnet claims (test/harness/subnets.ts), across processes as the test runner runs test files: concurrent claims
 * never get the same subnet, a subnet picked by hand is not shared but waited for, and a claim ends with its process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SupervisedProcess } from '../../runtime/supervisor/supervised-process.js';
import { CLAIMED_SUBNETS, claimSubnet, claimThisSubnet } from '../harness/subnets.js';

const subnets = new URL('../harness/subnets.js', import.meta.url).href;

/** A process that claims (a free subnet, or `wanted`), prints it as a JSON line and holds it until killed. */
function claimer(label: string, wanted?: number): SupervisedProcess {
  const claim = wanted === undefined ? 'claimSubnet()' : `claimThisSubnet(${wanted})`;
  const script = `const { claimSubnet, claimThisSubnet } = await import(${JSON.stringify(subnets)});
    const { subnet } = await ${claim};
    console.log(JSON.stringify({ level: 'info', msg: 'claimed', logEvent: 'ready', subnet }));
    setInterval(() => {}, 1000);`;
  return new SupervisedProcess({ label, command: [process.execPath, '--input-type=module', '-e', script] });
}

describe('subnet claims', () => {
  it('give processes that claim at the same time different subnets, in the claimed range', async () => {
    const claimers = Array.from({ length: 6 }, (_, i) => claimer(`claimer${i}`));
    try {
      const got = await Promise.all(claimers.map(async (c) => (await c.waitForEvent('ready')).subnet as number));
      assert.equal(new Set(got).size, got.length, `all different: ${got.join(', ')}`);
      for (const subnet of got) assert.ok(subnet >= CLAIMED_SUBNETS.first && subnet <= CLAIMED_SUBNETS.last, `${subnet} in range`);
    } finally {
      await Promise.all(claimers.map((c) => c.stop('SIGKILL')));
    }
  });

  it('make a subnet picked by hand wait for the process holding it, and free it when that process dies', async () => {
    const holder = claimer('holder');
    const held = (await holder.waitForEvent('ready')).subnet as number;
    const waiter = claimer('waiter', held);
    try {
      // The waiter retries every 200 ms: five tries see the subnet taken.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(waiter.events('ready').length, 0, 'the waiter did not get a subnet that is held');
      await holder.stop('SIGKILL');
      assert.equal((await waiter.waitForEvent('ready')).subnet, held, 'the waiter got it once the holder was killed');
      await assert.rejects(claimThisSubnet(held, 300), new RegExp(`127\\.0\\.${held}\\.x stayed claimed`));
    } finally {
      await Promise.all([holder.stop('SIGKILL'), waiter.stop('SIGKILL')]);
    }
  });

  it('are given back by release()', async () => {
    const claim = await claimSubnet();
    await claim.release();
    const again = await claimThisSubnet(claim.subnet, 1000);
    assert.equal(again.ip(7), `127.0.${claim.subnet}.7`);
    await again.release();
  });
});
