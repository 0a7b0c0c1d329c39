/**
 * The Gateway API while part of the cluster is gone: a gateway announcing an address nobody answers at, a gateway
 * killed, a gateway paused (SIGSTOP). Calls go on with the gateways that can be reached, at once, and report the
 * ones they went without; a paused gateway costs a broadcast or query one request timeout, no more.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GatewayClient, type SkipReason } from '../../runtime/gateway-api/gateway-client.js';
import { GatewayTimeoutError } from '../../runtime/gateway-api/gateway-errors.js';
import { createLogger } from '../../runtime/observability/log.js';
import { gatewayAddressOf } from '../../runtime/wire/client-id.js';
import { metricValue } from '../harness/metrics.js';
import { callApi, postApi, startApi } from '../harness/http-api.js';
import { clusterForSuite, INTERNAL_PORT, TEST_SECRET } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

const TIMEOUT_MS = 1000;

describe('the Gateway API with part of the cluster gone', () => {
  const cluster = clusterForSuite({ gateways: 3 });
  const skips: Array<[string, SkipReason]> = [];
  let client: GatewayClient;
  let api = '';
  const clients: WsTestClient[] = [];
  const open = async (gateway: number) => {
    const ws = await WsTestClient.open(cluster.gatewayUrl(gateway));
    clients.push(ws);
    return ws;
  };
  const gatewayOf = (index: number) => `${cluster.gatewayIp(index)}:${INTERNAL_PORT}`;
  const idOn = async (gateway: number) => (await client.getAllClientIdList()).find((id) => gatewayAddressOf(id) === gatewayOf(gateway))!;
  const timed = async <T>(call: () => Promise<T>): Promise<[T, number]> => {
    const started = Date.now();
    const value = await call();
    return [value, Date.now() - started];
  };

  it('goes on at once without a gateway that announces an address nobody answers at, and reports it', async () => {
    client = await GatewayClient.connect({
      registerAddress: cluster.registerAddress,
      secret: TEST_SECRET,
      requestTimeoutMs: TIMEOUT_MS,
      onSkipped: (gateway, reason) => skips.push([gateway, reason]),
      log: createLogger({ role: 'test-api' }, 'error'),
    });
    api = await startApi(cluster);
    const [a, b, c] = [await open(0), await open(1), await open(2)];
    // Its internal port is open, but on another address than the one it announces (a wrong lanIp).
    const unreachable = `${cluster.ip(98)}:${INTERNAL_PORT}`;
    const wrong = cluster.adopt(cluster.startGateway(9, ['--lan-ip', cluster.ip(98), '--internal-host', cluster.gatewayIp(9)]));
    await wrong.waitForEvent('ready');
    await waitFor('the client to have failed to reach it', () => client.cluster.link(unreachable)?.unreachable, 10_000);

    const [, sendMs] = await timed(() => client.sendToAll('to all'));
    for (const ws of [a, b, c]) assert.equal(await ws.next((m) => m === 'to all'), 'to all');
    const [count, countMs] = await timed(() => client.getAllClientCount());
    assert.equal(count, 3);
    assert.ok(sendMs < 500 && countMs < 500, `at once: sendToAll ${sendMs} ms, getAllClientCount ${countMs} ms`);
    assert.ok(skips.some(([gateway, reason]) => gateway === unreachable && reason === 'unreachable'), JSON.stringify(skips));

    // The HTTP API answers the same, and counts the gateway it went without.
    assert.equal(await callApi<number>(api, 'getAllClientCount'), 3);
    const metrics = await (await fetch(`http://${cluster.ip(30)}:9280/metrics`)).text();
    assert.ok(metricValue(metrics, 'gwc_client_gateways_skipped_total{reason="unreachable",role="api"}') >= 1, metrics.split('\n').filter((l) => l.includes('skipped')).join('\n'));
    await wrong.stop('SIGKILL');
  });

  it('answers calls about the clients of a killed gateway at once: offline, no session, sends and binds do nothing', async () => {
    const victim = await idOn(1);
    await cluster.gateways[1]!.stop('SIGKILL');
    const [answers, ms] = await timed(async () => [
      await client.isOnline(victim),
      await client.getSession(victim),
      await client.getUidByClientId(victim),
      await client.sendToClient(victim, 'gone'),
      await client.bindUid(victim, 'u1'),
      await client.getAllClientCount(),
    ]);
    assert.deepEqual(answers, [false, null, null, undefined, undefined, 2]);
    assert.ok(ms < TIMEOUT_MS, `${ms} ms`);
  });

  it('goes on without a paused gateway after one request timeout; what was sent to it arrives once it resumes', async () => {
    const [a] = clients;
    const paused = cluster.gateways[2]!;
    const onPaused = clients[2]!;
    const pausedClient = await idOn(2);
    process.kill(paused.pid, 'SIGSTOP');
    try {
      const [count, ms] = await timed(() => client.getAllClientCount());
      assert.equal(count, 1, 'the answering gateway\'s clients');
      // The clocks of the timer and of Date.now differ by up to a millisecond or so: 999 ms has been measured.
      assert.ok(ms >= 0.9 * TIMEOUT_MS && ms < 3 * TIMEOUT_MS, `${ms} ms`);
      assert.ok(skips.some(([gateway, reason]) => gateway === gatewayOf(2) && reason === 'timeout'));
      await client.sendToAll('while paused');
      assert.equal(await a!.next((m) => m === 'while paused'), 'while paused');
      // About one client of the paused gateway there is nothing to go on with: the caller is told.
      await assert.rejects(client.isOnline(pausedClient), /did not answer within 1000 ms/);
      await assert.rejects(client.isOnline(pausedClient), GatewayTimeoutError);
      // The HTTP API says so with a 504 (after its own request timeout, 5 s).
      const answer = await postApi(api, 'isOnline', { clientId: pausedClient });
      assert.equal(answer.status, 504, JSON.stringify(answer.body));
      assert.match(answer.body.error ?? '', /did not answer within 5000 ms/);
    } finally {
      process.kill(paused.pid, 'SIGCONT');
    }
    assert.equal(await onPaused.next((m) => m === 'while paused'), 'while paused');
  });

  after(() => {
    for (const ws of clients) ws.close();
    client?.close(); // unset when the first test failed early
  });
});
