import type { RoleProcess } from '../harness/role-process.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';

export interface FloodOptions {
  urls: string[];
  /** Clients that stop reading, spread over the gateways. */
  slowClients: number;
  /** What every member of the flood group is sent, in total. */
  bytesPerRecipient: number;
  /** The flood comes in bursts of this many bytes (in 64 KiB messages), one every `intervalMs`. */
  burstBytes: number;
  intervalMs: number;
  /** The gateways running now, whose logs tell which clients they closed as too slow. */
  gateways(): RoleProcess[];
}

export interface FloodResult {
  slowClients: number;
  bytesPerRecipient: number;
  /** Slow clients that saw a 1008 close once they read again. */
  closes1008: number;
  /** Other ends of slow clients, by close code ("open": never closed). */
  otherEnds: Record<string, number>;
  /** "client closed: send buffer full" lines the gateways logged during the flood (any client). */
  gatewaySlowCloses: number;
  /** What the reading member of the group (the one asking for the flood) received, and whether it stayed connected. */
  readerBytes: number;
  readerStayed: boolean;
  durationMs: number;
}

const GROUP = 'flood';
const MESSAGE_BYTES = 64 * 1024;
const SLOW_CLOSE_LOG = 'client closed: send buffer full';

interface Member {
  client: WsTestClient;
  clientId: string;
  paused: boolean;
}

type Pausable = { _socket: { pause(): void; resume(): void } };
const socketOf = (client: WsTestClient) => (client.ws as unknown as Pausable)._socket;

async function joinFloodGroup(url: string): Promise<Member> {
  const client = await WsTestClient.open(url);
  client.send(JSON.stringify({ join: GROUP }));
  const { clientId } = JSON.parse(await client.next((message) => message.includes('"joined"'), 10_000)) as { clientId: string };
  // From here on only the close matters: what arrives is not kept.
  client.ws.removeAllListeners('message');
  return { client, clientId, paused: false };
}

/**
 * The slow-consumer flood: a few clients join a group and stop reading (their socket is paused, so the kernel
 * buffers fill, then the gateway's own), and one reading member asks the workers to send the group many MB,
 * paced so that a reading client keeps up. The gateways should close each slow client with 1008 once past
 * --max-send-buffer instead of buffering the flood for it, and keep serving the reader. A slow client reads
 * again as soon as its gateway has logged closing it, so it takes the 1008 close frame.
 *
 * A group rather than sendToAll: a paused loopback client absorbs some 13 MiB in kernel buffers before the
 * gateway holds anything for it, so a flood that tells anything is far too much to send to every client.
 */
export async function runFlood(options: FloodOptions): Promise<FloodResult> {
  const started = Date.now();
  const slow = await Promise.all(Array.from({ length: options.slowClients }, (_, i) => joinFloodGroup(options.urls[i % options.urls.length]!)));
  for (const member of slow) {
    socketOf(member.client).pause();
    member.paused = true;
  }
  const reader = await joinFloodGroup(options.urls[0]!);
  let readerBytes = 0;
  reader.client.ws.on('message', (data: Buffer) => (readerBytes += data.length));
  const gateways = options.gateways();
  const marks = gateways.map((gateway) => gateway.logs.length);
  const slowCloses = () => gateways.flatMap((gateway, i) => gateway.logs.slice(marks[i]).filter((r) => r.msg === SLOW_CLOSE_LOG));
  const resume = (member: Member) => {
    socketOf(member.client).resume();
    member.paused = false;
  };
  const resumer = setInterval(() => {
    const closed = new Set(slowCloses().map((record) => record.clientId));
    for (const member of slow) if (member.paused && closed.has(member.clientId)) resume(member);
  }, 50);

  const bursts = Math.max(1, Math.round(options.bytesPerRecipient / options.burstBytes));
  const perBurst = Math.max(1, Math.round(options.burstBytes / MESSAGE_BYTES));
  const bytesPerRecipient = bursts * perBurst * MESSAGE_BYTES;
  for (let i = 0; i < bursts && !reader.client.closed; i++) {
    reader.client.send(JSON.stringify({ flood: MESSAGE_BYTES, count: perBurst, group: GROUP }));
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  await waitFor('the flood to reach the reader and every slow client to be closed',
    () => (readerBytes >= bytesPerRecipient || reader.client.closed) && slow.every((member) => member.client.closed), 15_000).catch(() => undefined);
  clearInterval(resumer);

  const otherEnds: Record<string, number> = {};
  for (const { client } of slow) {
    if (client.closeCode === 1008) continue;
    const end = client.closed ? String(client.closeCode) : 'open';
    otherEnds[end] = (otherEnds[end] ?? 0) + 1;
  }
  const readerStayed = !reader.client.closed;
  for (const { client } of [...slow, reader]) client.ws.terminate();
  return {
    slowClients: options.slowClients,
    bytesPerRecipient,
    closes1008: slow.filter(({ client }) => client.closeCode === 1008).length,
    otherEnds,
    gatewaySlowCloses: slowCloses().length,
    readerBytes,
    readerStayed,
    durationMs: Date.now() - started,
  };
}
