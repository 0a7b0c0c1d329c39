/**
 * The depth limit of a session, stated once: the HTTP API, GatewayClient, the worker's write-back of ctx.session and
 * the gateway all check it (so a session never reaches anything recursive that its depth could overflow), and the
 * OpenAPI document and the README say it from here.
 */
import { jsonNestedDeeperThan, valueNestedDeeperThan } from '../json/json-depth.js';

/** How many levels of objects and arrays a session may have, itself the first: `{"a":{"b":[1]}}` is 3 deep. */
export const MAX_SESSION_DEPTH = 64;

/** What is wrong with a session past the limit, after the name of what holds it ("body.session: ..."). */
export const SESSION_TOO_DEEP = `nested deeper than ${MAX_SESSION_DEPTH} levels, the most a session may have`;

/** A session object (from a caller or a handler) past the depth limit. */
export function sessionTooDeep(session: unknown): boolean {
  return valueNestedDeeperThan(session, MAX_SESSION_DEPTH);
}

/** A session as JSON bytes (from a peer) past the depth limit, found before it is parsed. */
export function sessionJsonTooDeep(json: Uint8Array): boolean {
  return jsonNestedDeeperThan(json, MAX_SESSION_DEPTH);
}
