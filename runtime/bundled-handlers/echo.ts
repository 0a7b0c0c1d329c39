import type { Handler } from '../worker/handler.js';

/** Replies to the sender with each message unchanged. */
const echo: Handler = {
  async onMessage(_clientId, message, ctx) {
    await ctx.sendToCurrentClient(message);
  },
};

export default echo;
