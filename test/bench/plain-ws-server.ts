/**
 * The reference: one process, a `ws` WebSocketServer that sends every message back to its sender.
 * HTTP on the same port: GET /stats → process.memoryUsage(), the young generation's size and the mark-compacts so
 * far; GET /broadcast?count=N&size=B → sends a B-byte text message N times to every client, in-process, the way
 * sendToAll does on a gateway.
 * Usage: node plain-ws-server.js <host> <port>
 */
import { createServer } from 'node:http';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { WebSocketServer } from 'ws';
import type { LogFields } from '../../runtime/observability/log-format.js';

const [host = '127.0.0.1', port = '7300'] = process.argv.slice(2);

const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...process.memoryUsage(), newSpace: newSpaceBytes(), majorGcs, clients: wss.clients.size }));
    return;
  }
  if (url.pathname === '/broadcast') {
    const count = Number(url.searchParams.get('count') ?? 1);
    // One Buffer sent as text to everyone, as the gateway does with a command's body.
    const payload = Buffer.from('b'.repeat(Number(url.searchParams.get('size') ?? 64)));
    for (let i = 0; i < count; i++) for (const client of wss.clients) client.send(payload, { binary: false });
    res.writeHead(200).end(String(wss.clients.size));
    return;
  }
  res.writeHead(404).end();
});

/** The young generation's committed size, which V8 shrinks once allocation goes quiet (see IDLE_SETTLE). */
const newSpaceBytes = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

/** Mark-compacts so far, observed as the gateway's prom-client observes them (its nodejs_gc_duration_seconds). */
let majorGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
}).observe({ entryTypes: ['gc'] });

// The gateway's settings: no compression, 1 MiB messages.
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});

// Says it is ready as the roles do, so the bench's supervisor waits on it the same way.
const ready: LogFields = { msg: 'ready', logEvent: 'ready', host, port: Number(port) };
http.listen(Number(port), host, () => process.stdout.write(JSON.stringify(ready) + '\n'));
// A clean exit, so a --cpu-prof profile gets written.
process.on('SIGTERM', () => process.exit(0));
