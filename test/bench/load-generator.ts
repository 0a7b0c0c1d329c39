/**
 * Load generator process: WebSocket clients driven by JSON commands on stdin, results as JSON lines on stdout.
 *   {"op":"connect","url","count","localAddress","concurrency","reconnect"} → {"event":"connected","count","failed","error"}
 *       (with "reconnect": true, a client whose connection closes opens it again, after a jittered backoff)
 *   {"op":"echo","inFlight","size","warmupMs","measureMs"}       → {"event":"echo-result",...}
 *   {"op":"count","expected"}  (each client should get `expected` messages) → {"event":"counting"}, then
 *                                                                  {"event":"count-done","delivered","lastAtNs"}
 *   {"op":"report"}                                               → {"event":"report","delivered","open"}
 *   {"op":"close"}                                                → {"event":"closed"}
 * It exits when stdin closes, so it never outlives the orchestrator.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { LatencyHistogram } from './latency-histogram.js';

interface Conn {
  ws: WebSocket;
  /** Set when it is to be opened again after it closes. */
  reopen?: { url: string; localAddress: string | undefined };
  nextSeq: number;
  expectSeq: number;
  /** Send times of the messages in flight, at index seq % inFlight (replies come back in order). */
  sentAt: bigint[];
}

const conns = new Set<Conn>();
/** Connections opened again after a close (with "reconnect"). */
let reconnects = 0;
let mode: 'idle' | 'echo' | 'count' = 'idle';
let closing = false;
let unexpectedCloses = 0;

const echo = {
  sending: false,
  measuring: false,
  inFlight: 4,
  padding: '',
  outstanding: 0,
  replies: 0,
  outOfOrder: 0,
  histogram: new LatencyHistogram(),
};

const counting = { delivered: 0, target: 0, firstAt: 0n, lastAt: 0n, done: false };

function emit(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function onMessage(conn: Conn, data: Buffer): void {
  if (mode === 'count') {
    counting.delivered++;
    if (counting.delivered === 1) counting.firstAt = process.hrtime.bigint();
    if (counting.delivered === counting.target) {
      counting.lastAt = process.hrtime.bigint();
      counting.done = true;
      emit({ event: 'count-done', delivered: counting.delivered, firstAtNs: String(counting.firstAt), lastAtNs: String(counting.lastAt) });
    }
    return;
  }
  if (mode !== 'echo') return;
  const now = process.hrtime.bigint();
  const seq = parseInt(data.toString('latin1', 0, 8), 16);
  if (seq !== conn.expectSeq) echo.outOfOrder++;
  conn.expectSeq = seq + 1;
  echo.outstanding--;
  if (echo.measuring) {
    echo.replies++;
    echo.histogram.recordNanos(Number(now - conn.sentAt[seq % echo.inFlight]!));
  }
  if (echo.sending) sendEcho(conn);
}

function sendEcho(conn: Conn): void {
  const seq = conn.nextSeq++;
  conn.sentAt[seq % echo.inFlight] = process.hrtime.bigint();
  echo.outstanding++;
  conn.ws.send(seq.toString(16).padStart(8, '0') + echo.padding);
}

/** Full jitter: a random wait up to a ceiling that doubles with each failed attempt, from BACKOFF_BASE_MS to BACKOFF_MAX_MS. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5000;

function openOne(url: string, localAddress: string | undefined, reconnect: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 20_000, ...(localAddress ? { localAddress } : {}) });
    const conn: Conn = { ws, nextSeq: 0, expectSeq: 0, sentAt: [], ...(reconnect ? { reopen: { url, localAddress } } : {}) };
    let opened = false;
    ws.on('open', () => {
      opened = true;
      conns.add(conn);
      resolve();
    });
    ws.on('message', (data: Buffer) => onMessage(conn, data));
    ws.on('error', (error) => {
      if (!opened) reject(error);
    });
    ws.on('close', () => {
      if (!opened) {
        reject(new Error('closed before open')); // whoever opened it tries again, if anyone
        return;
      }
      if (closing) return;
      conns.delete(conn);
      if (conn.reopen) void reopen(conn.reopen.url, conn.reopen.localAddress);
      else unexpectedCloses++;
    });
  });
}

async function reopen(url: string, localAddress: string | undefined): Promise<void> {
  for (let attempt = 0; !closing; attempt++) {
    await sleep(Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt));
    try {
      await openOne(url, localAddress, true);
      reconnects++;
      return;
    } catch {
      // down still: wait longer
    }
  }
}

async function connect(url: string, count: number, localAddress: string | undefined, concurrency: number, reconnect: boolean): Promise<void> {
  let started = 0;
  let failed = 0;
  let firstError: string | undefined;
  const lane = async () => {
    while (started < count) {
      started++;
      try {
        await openOne(url, localAddress, reconnect);
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  emit({ event: 'connected', count: conns.size, failed, error: firstError });
}

async function runEcho(inFlight: number, size: number, warmupMs: number, measureMs: number): Promise<void> {
  Object.assign(echo, { sending: true, measuring: false, inFlight, padding: 'x'.repeat(size - 8), outstanding: 0, replies: 0, outOfOrder: 0 });
  echo.histogram = new LatencyHistogram();
  mode = 'echo';
  for (const conn of conns) {
    conn.nextSeq = conn.expectSeq = 0;
    for (let i = 0; i < inFlight; i++) sendEcho(conn);
  }
  await sleep(warmupMs);
  echo.measuring = true;
  const start = process.hrtime.bigint();
  await sleep(measureMs);
  echo.measuring = false;
  echo.sending = false;
  const windowNs = Number(process.hrtime.bigint() - start);
  const drainDeadline = Date.now() + 10_000;
  while (echo.outstanding > 0 && Date.now() < drainDeadline) await sleep(20);
  mode = 'idle';
  emit({
    event: 'echo-result',
    replies: echo.replies,
    windowMs: windowNs / 1e6,
    outOfOrder: echo.outOfOrder,
    undrained: echo.outstanding,
    unexpectedCloses,
    histogram: echo.histogram.counts,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function handle(command: Record<string, unknown>): void {
  switch (command.op) {
    case 'connect':
      void connect(String(command.url), Number(command.count), command.localAddress as string | undefined, Number(command.concurrency ?? 100), command.reconnect === true);
      break;
    case 'echo':
      void runEcho(Number(command.inFlight), Number(command.size), Number(command.warmupMs), Number(command.measureMs));
      break;
    case 'count':
      Object.assign(counting, { delivered: 0, target: conns.size * Number(command.expected), firstAt: 0n, lastAt: 0n, done: false });
      mode = 'count';
      emit({ event: 'counting', target: counting.target });
      break;
    case 'report':
      emit({ event: 'report', delivered: counting.delivered, open: conns.size, reconnects, unexpectedCloses });
      break;
    case 'close':
      closing = true;
      mode = 'idle';
      for (const conn of conns) conn.ws.terminate();
      conns.clear();
      emit({ event: 'closed' });
      break;
    default:
      emit({ event: 'error', error: `unknown op ${String(command.op)}` });
  }
}

createInterface({ input: process.stdin })
  .on('line', (line) => handle(JSON.parse(line) as Record<string, unknown>))
  .on('close', () => process.exit(0));
emit({ event: 'started', pid: process.pid });
