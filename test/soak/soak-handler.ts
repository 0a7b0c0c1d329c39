/**
 * The soak's handler. `{c, n}` (a client key that survives reconnects, and that client's sequence number) is
 * recorded, then echoed back. The record is a line `c n messageId redelivery worker`, written before the echo so that
 * a SIGKILL right after cannot lose it: those records are the truth about what was handled. They go to a file of this
 * worker process in $GWC_SOAK_DIR (appended synchronously), or, where a worker's files die with it (a pod on a node
 * that loses its power), to the record collector at $GWC_SOAK_COLLECTOR (host:port, test/node-failure), which
 * acknowledges each line once it has written it. `{join: group}` joins the client to a group and answers
 * `{"joined":group,"clientId":id}`; `{flood: bytes, count, group}` sends the group `count` messages of `bytes` bytes
 * (the slow-consumer flood).
 * It imports nothing but Node's own modules: the node tests run it from a ConfigMap.
 */
import { appendFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import type { Handler } from '../../runtime/worker/handler.js';

interface SoakMessage {
  c?: string;
  n?: number;
  join?: string;
  flood?: number;
  count?: number;
  group?: string;
}

const worker = process.env.GWC_NAME ?? 'worker';
const dir = process.env.GWC_SOAK_DIR;
const collector = process.env.GWC_SOAK_COLLECTOR;
if (!dir && !collector) throw new Error('neither GWC_SOAK_DIR nor GWC_SOAK_COLLECTOR is set: the soak handler needs somewhere for its records');

/** Lines to the collector, each resolved once it is acknowledged (one newline back per line, in order). */
function collectorRecorder(address: string): (line: string) => Promise<void> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  let socket: Socket | undefined;
  const waiting: Array<{ resolve(): void; reject(error: Error): void }> = [];
  const open = (): Socket => {
    const opened = connect({ host, port, noDelay: true });
    opened.on('data', (data: Buffer) => {
      for (const byte of data) if (byte === 0x0a) waiting.shift()?.resolve();
    });
    const fail = (error: Error) => {
      if (socket === opened) socket = undefined;
      for (const waiter of waiting.splice(0)) waiter.reject(new Error(`record collector ${address}: ${error.message}`));
    };
    opened.on('error', fail);
    opened.on('close', () => fail(new Error('connection closed')));
    return opened;
  };
  return (line) =>
    new Promise<void>((resolve, reject) => {
      socket ??= open();
      waiting.push({ resolve, reject });
      socket.write(line);
    });
}

const record: (line: string) => Promise<void> | void = collector
  ? collectorRecorder(collector)
  : (line) => appendFileSync(path.join(dir!, `handled-${worker}-${process.pid}.log`), line);

const handler: Handler = {
  async onMessage(clientId, message, ctx) {
    const request = JSON.parse(typeof message === 'string' ? message : message.toString('utf8')) as SoakMessage;
    if (request.join !== undefined) {
      await ctx.gateway.joinGroup(clientId, request.join);
      return ctx.sendToCurrentClient(JSON.stringify({ joined: request.join, clientId }));
    }
    if (request.flood !== undefined) {
      const payload = 'F'.repeat(request.flood);
      for (let i = 0; i < (request.count ?? 1); i++) await ctx.gateway.sendToGroup(request.group ?? 'flood', payload);
      return;
    }
    await record(`${request.c} ${request.n} ${ctx.messageId} ${ctx.redelivery ? 1 : 0} ${worker}\n`);
    await ctx.sendToCurrentClient(JSON.stringify({ c: request.c, n: request.n }));
  },
};

export default handler;
