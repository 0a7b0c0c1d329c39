import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport } from '../soak/report.js';
import { runSoak } from '../soak/soak.js';

/** A gateway idles near 85 MiB RSS here and peaks near 130 MiB in this flood; see the bound below. */
const GATEWAY_FLOOD_RSS_MAX_MIB = 200;

describe('the chaos soak, short', () => {
  it('loses no message outside gateway kills, flags every repeat, keeps order and bounds memory under a flood', { timeout: 180_000 }, async (t) => {
    const slowClients = 4;
    const report = await runSoak({
      durationS: 25,
      clients: 50,
      rate: 5,
      floodAt: 0.4,
      chaosIntervalS: [1, 2.5],
      slowClients,
      floodMiB: 96,
      log: (line) => t.diagnostic(line),
    });
    for (const line of formatReport(report).split('\n')) t.diagnostic(line);

    assert.deepEqual(report.unexpectedExits, [], 'no process exited that the chaos did not kill');
    for (const [kind, count] of Object.entries(report.chaos.counts)) assert.ok(count > 0, `the chaos did ${kind}`);
    assert.ok(report.sent > 1000, `${report.sent} messages sent`);
    assert.equal(report.lost.otherwise, 0,
      `lost outside gateway kills, by the chaos action just after: ${JSON.stringify(report.lost.otherwiseByNextChaos)}`);
    assert.equal(report.duplicates.unflagged, 0, 'every message handled twice was flagged as a redelivery');
    assert.equal(report.outOfOrderEchoes, 0, 'per-client order kept');

    // The flood: 96 MiB to a group holding 2 paused clients per gateway. A paused loopback client absorbs about
    // 13 MiB in kernel buffers, so a gateway buffering the flood for them would hold 2 × ~80 MiB on top of its
    // ~85 MiB: well past 200 MiB. Closing them at --max-send-buffer (256 KiB) keeps it near 130 MiB.
    const flood = report.flood!;
    assert.equal(flood.closes1008, slowClients, 'every slow client closed with 1008');
    assert.ok(flood.readerStayed, 'the client that reads kept its connection');
    for (const [gateway, mib] of Object.entries(flood.gatewayPeakDuringMiB)) {
      assert.ok(mib < GATEWAY_FLOOD_RSS_MAX_MIB, `${gateway} peaked at ${mib} MiB during the flood`);
    }
  });
});
