import type { ClientSessions, Session } from '../gateway-api/gateway-api.js';
import type { Logger } from '../observability/log.js';
import type { EventContext, Handler } from '../worker/handler.js';
import { decodeClientId } from '../wire/client-id.js';

/**
 * The bundled chat handler, after workerman-chat. Clients send JSON text:
 *   {"type":"login","name":"Ann","room":"lobby"}
 *   {"type":"say","to":"all" | <clientId>,"content":"hi"}
 *   {"type":"ping"}
 * and receive "login", "logout", "say" and "error" messages. Nothing is escaped here: pages must render text as text.
 */

const MAX_NAME_LENGTH = 32;
const MAX_ROOM_LENGTH = 32;
const MAX_CONTENT_LENGTH = 2000;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const CONTROL_CHARS_BUT_NEWLINE_AND_TAB = /[\u0000-\u0008\u000b-\u001f\u007f]/;

type Request =
  | { type: 'login'; name: string; room: string }
  | { type: 'say'; to: string; content: string }
  | { type: 'ping' };

interface Member {
  name: string;
  room: string;
}

/** A problem with what the client sent: reported back to it, not logged. */
class InputError extends Error {}

let log: Logger | undefined;

const chat: Handler = {
  onWorkerStart(worker) {
    log = worker.log;
  },

  async onMessage(clientId, message, ctx) {
    try {
      const request = parseRequest(message);
      if (request.type === 'login') await login(clientId, request.name, request.room, ctx);
      else if (request.type === 'say') await say(clientId, request.to, request.content, ctx);
    } catch (error) {
      const known = error instanceof InputError;
      if (!known) reportError('chat message failed', clientId, error);
      const text = known ? error.message : 'the server could not handle that message';
      await ctx.sendToCurrentClient(json({ type: 'error', message: text })).catch(() => {});
    }
  },

  async onClose(clientId, ctx) {
    const member = memberOf(ctx.session);
    if (!member) return;
    const logout = { type: 'logout', client_id: clientId, client_name: member.name, time: now() };
    await ctx.gateway.sendToGroup(member.room, json(logout), [clientId]).catch((error: unknown) => {
      reportError('chat logout broadcast failed', clientId, error);
    });
  },
};

export default chat;

async function login(clientId: string, name: string, room: string, ctx: EventContext): Promise<void> {
  const previous = memberOf(ctx.session);
  if (previous && previous.room !== room) {
    await ctx.gateway.leaveGroup(clientId, previous.room);
    const logout = { type: 'logout', client_id: clientId, client_name: previous.name, time: now() };
    await ctx.gateway.sendToGroup(previous.room, json(logout));
  }
  ctx.session.name = name;
  ctx.session.room = room;
  // Join before listing: of two clients logging in at once, each then either lists the other or hears its login.
  await ctx.gateway.joinGroup(clientId, room);
  const sessions = await ctx.gateway.getClientSessionsByGroup(room);
  const announcement = { type: 'login', client_id: clientId, client_name: name, time: now() };
  await ctx.gateway.sendToGroup(room, json(announcement), [clientId]);
  await ctx.sendToCurrentClient(json({ ...announcement, client_list: memberList(sessions, room, clientId, name) }));
}

async function say(clientId: string, to: string, content: string, ctx: EventContext): Promise<void> {
  const sender = memberOf(ctx.session);
  if (!sender) throw new InputError('log in first');
  const message = {
    type: 'say',
    from_client_id: clientId,
    from_client_name: sender.name,
    to_client_id: to,
    content,
    time: now(),
  };
  if (to === 'all') {
    await ctx.gateway.sendToGroup(sender.room, json(message));
    return;
  }
  const target = decodeClientId(to) ? memberOf(await ctx.gateway.getSession(to)) : undefined;
  if (!target || target.room !== sender.room) throw new InputError('that user is not in this room');
  const direct = json({ ...message, to_client_name: target.name });
  await ctx.gateway.sendToClient(to, direct);
  if (to !== clientId) await ctx.sendToCurrentClient(direct);
}

function parseRequest(message: string | Buffer): Request {
  let data: unknown;
  try {
    data = JSON.parse(typeof message === 'string' ? message : message.toString('utf8'));
  } catch {
    throw new InputError('message is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError('message must be a JSON object');
  const fields = data as Record<string, unknown>;
  switch (fields.type) {
    case 'ping':
      return { type: 'ping' };
    case 'login':
      return {
        type: 'login',
        name: singleLine(fields.name, 'name', MAX_NAME_LENGTH),
        room: singleLine(fields.room ?? 'lobby', 'room', MAX_ROOM_LENGTH),
      };
    case 'say':
      return { type: 'say', to: singleLine(fields.to ?? 'all', 'to', 64), content: content(fields.content) };
    default:
      if (typeof fields.type !== 'string') throw new InputError('message needs a "type"');
      throw new InputError(`unknown message type ${JSON.stringify(fields.type.slice(0, 40))}`);
  }
}

function singleLine(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new InputError(`${field} must be a string`);
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > maxLength) throw new InputError(`${field} must be 1 to ${maxLength} characters`);
  if (CONTROL_CHARS.test(trimmed)) throw new InputError(`${field} must not contain control characters`);
  return trimmed;
}

function content(value: unknown): string {
  if (typeof value !== 'string') throw new InputError('content must be a string');
  if (value.trim().length === 0) throw new InputError('content must not be empty');
  if (value.length > MAX_CONTENT_LENGTH) throw new InputError(`content must be at most ${MAX_CONTENT_LENGTH} characters`);
  if (CONTROL_CHARS_BUT_NEWLINE_AND_TAB.test(value)) throw new InputError('content must not contain control characters');
  return value;
}

function memberOf(session: Session | null | undefined): Member | undefined {
  const name = session?.name;
  const room = session?.room;
  return typeof name === 'string' && typeof room === 'string' ? { name, room } : undefined;
}

/** The room's members; the current client's new name is not in its stored session until the callback returns. */
function memberList(sessions: ClientSessions, room: string, clientId: string, name: string) {
  const list: { client_id: string; client_name: string }[] = [];
  for (const [id, session] of Object.entries(sessions)) {
    const member = id === clientId ? { name, room } : memberOf(session);
    if (member && member.room === room) list.push({ client_id: id, client_name: member.name });
  }
  if (!(clientId in sessions)) list.push({ client_id: clientId, client_name: name });
  return list;
}

function reportError(msg: string, clientId: string, error: unknown): void {
  if (log) log.error(msg, { clientId, error });
  else console.error(msg, clientId, error);
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function now(): string {
  return new Date().toISOString();
}
