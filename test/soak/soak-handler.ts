/**
 * The soak's handler. `{c, n}` (a client key that survives reconnects, and that client's sequence number) is
 * recorded, then echoed back. The record is a line `c n messageId redelivery worker` appended synchronously to
 * this worker process's file in $GWC_SOAK_DIR before the echo, so a SIGKILL right after cannot lose it: those
 * files are the truth about what was handled. `{join: group}` joins the client to a group and answers
 * `{"joined":group,"clientId":id}`; `{flood: bytes, count, group}` sends the group `count` messages of `bytes` bytes (the
 * slow-consumer flood).
 */
import { appendFileSync } from 'node:fs';
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

const dir = process.env.GWC_SOAK_DIR;
if (!dir) throw new Error('GWC_SOAK_DIR is not set: the soak handler needs a folder for its records');
const worker = process.env.GWC_NAME ?? 'worker';
const file = path.join(dir, `handled-${worker}-${process.pid}.log`);

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
    appendFileSync(file, `${request.c} ${request.n} ${ctx.messageId} ${ctx.redelivery ? 1 : 0} ${worker}\n`);
    await ctx.sendToCurrentClient(JSON.stringify({ c: request.c, n: request.n }));
  },
};

export default handler;
