/**
 * --max-pending-events is a bound: a client that opens and closes connections as fast as it can, while no worker
 * takes events (none connected, or the one there stuck in onConnect), is refused before the upgrade once the
 * bound is reached, so refused connections queue nothing. Pending events stay within the bound plus one Close per
 * client connected at the time; the gateway's memory stays within a stated margin of what the same churn costs
 * with a worker taking every event; and once a worker takes events, everything held is handled.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { metricValue } from '../harness/metrics.js';
import type { RoleProcess } from '../harness/role-process.js';
import { CLIENT_PORT, clusterForSuite, type TestCluster } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor, withTimeout } from '../harness/wait.js';

const CYCLES = 16_000;
/** Connections the churn has open at once: each may still owe the gateway its Close past the bound. */
const CONCURRENCY = 16;
/** The default of --max-pending-events. */
const MAX_PENDING = 10_000;
const BOUND = MAX_PENDING + CONCURRENCY;
/**
 * How far the gateway's resident memory may peak above its peak during the same churn with a worker taking every
 * event (the reference): the 10,000 events held, the clients they belong to, and (stuck in onConnect) what the
 * worker holds.
 */
const RSS_ALLOWANCE_MIB = 48;
/** How long a churning client waits for an answer to its upgrade before it leaves, when a worker must decide it (and is stuck). */
const VERDICT_WAIT_MS = 5;
/** Without a worker the gateway answers every upgrade itself, at once. */
const ANSWER_WAIT_MS = 10_000;

type Outcome = 'upgraded' | 'refused' | 'left';

describe('--max-pending-events against 16,000 connect/close cycles', () => {
  const cluster = clusterForSuite({ gateways: 1, workers: 0 });
  const gateway = () => cluster.gateways[0]!;
  /** The gateway's peak memory during the churn with a worker taking every event: the reference. */
  let referenceMiB = 0;
  /** Clients the gateway had accepted when the reference was done. */
  let acceptedInReference = 0;

  it('(the reference: the same churn with a worker taking every event)', async () => {
    const coldMiB = rssMiB(gateway().pid);
    const echo = cluster.startWorker(0, ['--handler', 'echo']);
    cluster.workers.push(echo);
    await cluster.waitForWorkersOnAllGateways();
    const { outcomes, peaks, seconds } = await churnWhileWatching(gateway(), cluster, () => upgradeAndLeave(cluster.gatewayIp(0)));
    assert.equal(outcomes.upgraded, CYCLES);
    await echo.stop();
    cluster.workers.pop();
    referenceMiB = peaks.rssMiB;
    acceptedInReference = await acceptedBy(cluster, 0);
    console.log(`reference, a worker taking every event: ${CYCLES} cycles in ${seconds.toFixed(1)} s; RSS ${coldMiB.toFixed(1)} MiB before, peak ${referenceMiB.toFixed(1)} MiB`);
  });

  it('with no worker, refuses new WebSocket clients with 503 before the upgrade once it is reached', async () => {
    const { outcomes, peaks, seconds } = await churnWhileWatching(gateway(), cluster, () => upgradeAndLeave(cluster.gatewayIp(0)));
    report('no worker, websocket', outcomes, peaks, seconds, referenceMiB);
    assert.ok(outcomes.refused > 0, 'some clients were refused');
    assert.equal(outcomes.left, 0, 'every upgrade was answered');
    assert.equal(metricValue(await metrics(cluster, 0), 'gwc_gateway_connections_refused_total{reason="pending-events",role="gateway"}'), outcomes.refused);
    assert.ok(peaks.pending <= BOUND, `at most ${BOUND} events pending, saw ${peaks.pending}`);
    assert.ok(peaks.rssMiB - referenceMiB <= RSS_ALLOWANCE_MIB, `RSS peak ${peaks.rssMiB} MiB, reference ${referenceMiB} MiB`);
  });

  it('with no worker, closes new clients of the text protocol at once, before they are read from', async () => {
    const text = cluster.startGateway(1, ['--protocol', 'text']);
    cluster.gateways.push(text);
    await text.waitForEvent('health-listening'); // after 'ready': its metrics are read at once
    const { outcomes, peaks, seconds } = await churnWhileWatching(text, cluster, () => connectAndLeave(cluster.gatewayIp(1)));
    report('no worker, text', outcomes, peaks, seconds);
    assert.ok(peaks.pending <= BOUND, `at most ${BOUND} events pending, saw ${peaks.pending}`);
    assert.ok(metricValue(await metrics(cluster, 1), 'gwc_gateway_connections_refused_total{reason="pending-events",role="gateway"}') > 0);
    // Full now: a new client is closed without a word, where an accepted one would stay open.
    const socket = connect({ host: cluster.gatewayIp(1), port: CLIENT_PORT });
    socket.on('error', () => {});
    await withTimeout('the refused client to be closed', new Promise((resolve) => socket.once('close', resolve)), 5000);
  });

  it('once a worker comes, every event held is handled: each Connect and Close reached the handler', async () => {
    const worker = cluster.startWorker(0);
    cluster.workers.push(worker);
    await cluster.waitForWorkersOnAllGateways();
    await allHandled(cluster, [0, 1]);
    const counted = await handlerCounts(cluster);
    const accepted = (await acceptedBy(cluster, 0)) - acceptedInReference + (await acceptedBy(cluster, 1));
    await worker.stop();
    cluster.workers.pop();
    console.log(`a worker came: ${counted.connected} onConnect and ${counted.closed} onClose, for ${accepted} clients accepted`);
    assert.deepEqual(counted, { connected: accepted, closed: accepted - 1 }, 'every client accepted connected and (but the counter) closed');
  });

  it('with the worker stuck in onConnect, refuses new clients before the upgrade; once released, all is handled', async () => {
    const acceptedBefore = await acceptedBy(cluster, 0);
    const worker = cluster.startWorker(0, ['--abandon-timeout', '0'], { GWC_TEST_HOLD_CONNECT: '1' });
    cluster.workers.push(worker);
    await cluster.waitForWorkersOnAllGateways();
    const { outcomes, peaks, seconds } = await churnWhileWatching(gateway(), cluster, () => upgradeAndLeave(cluster.gatewayIp(0), VERDICT_WAIT_MS));
    report('worker stuck in onConnect, websocket', outcomes, peaks, seconds, referenceMiB);
    assert.ok(outcomes.refused > 0, 'some clients were refused');
    assert.ok(peaks.pending <= BOUND, `at most ${BOUND} events pending, saw ${peaks.pending}`);
    assert.ok(peaks.rssMiB - referenceMiB <= RSS_ALLOWANCE_MIB, `RSS peak ${peaks.rssMiB} MiB, reference ${referenceMiB} MiB`);

    worker.child.kill('SIGUSR2'); // onConnect returns from now on
    await allHandled(cluster, [0]);
    const counted = await handlerCounts(cluster);
    const accepted = (await acceptedBy(cluster, 0)) - acceptedBefore;
    console.log(`released: ${counted.connected} onConnect and ${counted.closed} onClose, for ${accepted} clients accepted`);
    assert.deepEqual(counted, { connected: accepted, closed: accepted - 1 });
  });
});

async function metrics(cluster: TestCluster, gateway: number): Promise<string> {
  const response = await fetch(`http://${cluster.gatewayIp(gateway)}:9272/metrics`);
  return response.text();
}

async function acceptedBy(cluster: TestCluster, gateway: number): Promise<number> {
  return metricValue(await metrics(cluster, gateway), 'gwc_gateway_connections_accepted_total');
}

async function allHandled(cluster: TestCluster, gateways: number[]): Promise<void> {
  await waitFor('nothing pending or unacknowledged', async () => {
    const pages = await Promise.all(gateways.map((index) => metrics(cluster, index)));
    return pages.every((page) => metricValue(page, 'gwc_gateway_pending_events') === 0 && metricValue(page, 'gwc_gateway_unacknowledged_events') === 0);
  }, 60_000, 200);
}

/**
 * The clients whose onConnect and onClose the worker ran, asked by one more client: counted as connected, not as
 * closed. Its own Close is handled before this returns.
 */
async function handlerCounts(cluster: TestCluster): Promise<{ connected: number; closed: number }> {
  const counter = await WsTestClient.open(cluster.gatewayUrl(0));
  const counts = await counter.request<{ connected: number; closed: number }>('counts');
  counter.close();
  await waitFor('the counting client gone', async () => metricValue(await metrics(cluster, 0), 'gwc_gateway_connections') === 0);
  await allHandled(cluster, [0]);
  return counts;
}

/** The process's resident memory, in MiB. */
function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) / 1024;
}

interface Peaks {
  pending: number;
  unacknowledged: number;
  rssMiB: number;
}

/** Runs CYCLES of `cycle`, CONCURRENCY at a time, sampling the gateway's pending events and memory every 100 ms meanwhile (and once after). */
async function churnWhileWatching(gateway: RoleProcess, cluster: TestCluster, cycle: () => Promise<Outcome>) {
  const index = cluster.gateways.indexOf(gateway);
  const peaks: Peaks = { pending: 0, unacknowledged: 0, rssMiB: 0 };
  const sample = async () => {
    const page = await metrics(cluster, index);
    peaks.pending = Math.max(peaks.pending, metricValue(page, 'gwc_gateway_pending_events'));
    peaks.unacknowledged = Math.max(peaks.unacknowledged, metricValue(page, 'gwc_gateway_unacknowledged_events'));
    peaks.rssMiB = Math.max(peaks.rssMiB, rssMiB(gateway.pid));
  };
  let churning = true;
  const sampler = (async () => {
    while (churning) {
      await sample();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const outcomes: Record<Outcome, number> = { upgraded: 0, refused: 0, left: 0 };
  let started = 0;
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (started++ < CYCLES) outcomes[await cycle()]++;
  }));
  const seconds = (Date.now() - startedAt) / 1000;
  churning = false;
  await sampler;
  await sample();
  return { outcomes, peaks, seconds };
}

function report(what: string, outcomes: Record<Outcome, number>, peaks: Peaks, seconds: number, referenceMiB?: number): void {
  const memory = referenceMiB === undefined ? `RSS peak ${peaks.rssMiB.toFixed(1)} MiB` : `RSS peak ${peaks.rssMiB.toFixed(1)} MiB, ${(peaks.rssMiB - referenceMiB).toFixed(1)} MiB over the reference`;
  console.log(
    `${what}: ${CYCLES} cycles in ${seconds.toFixed(1)} s: ${outcomes.upgraded} upgraded, ${outcomes.refused} refused, ${outcomes.left} left unanswered; ` +
      `peak ${peaks.pending} events pending (bound ${BOUND}), ${peaks.unacknowledged} unacknowledged; ${memory}`,
  );
}

/** A WebSocket upgrade request, then the connection dropped as soon as it is answered (or `waitMs` passed). */
async function upgradeAndLeave(host: string, waitMs = ANSWER_WAIT_MS): Promise<Outcome> {
  const socket = await connected(host);
  socket.write(
    `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(''), waitMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  leave(socket);
  if (answer.startsWith('HTTP/1.1 101')) return 'upgraded';
  if (answer.startsWith('HTTP/1.1 503')) return 'refused';
  if (answer === '') return 'left';
  throw new Error(`unexpected answer to an upgrade: ${answer.split('\r\n')[0]}`);
}

/** A TCP connection (text protocol) opened and closed at once. */
async function connectAndLeave(host: string): Promise<Outcome> {
  const socket = await connected(host);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  leave(socket);
  await closed;
  return 'left';
}

/** Drops the connection with a reset: tens of thousands of cycles would otherwise use up the local ports in TIME_WAIT. */
function leave(socket: Socket): void {
  if (socket.destroyed) return;
  socket.resetAndDestroy();
}

async function connected(host: string): Promise<Socket> {
  const socket = connect({ host, port: CLIENT_PORT });
  socket.on('error', () => {});
  await withTimeout(`TCP connect to ${host}`, new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }));
  return socket;
}
