/** The upgrade request as a handler gets it: its URL and headers, with the query and cookies parsed. */
import type { WebSocketRequest } from './handler.js';

/** `url` (path and query, as the client sent it) and `headers` (lower-case names) as the gateway forwarded them. */
export function websocketRequest(url: string, headers: Record<string, string>): WebSocketRequest {
  return { url, headers, query: queryOf(url), cookies: cookiesOf(headers.cookie ?? '') };
}

/** The query's parameters; a repeated one keeps its last value, as PHP's $_GET does. */
function queryOf(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  try {
    for (const [key, value] of new URL(url, 'http://gateway').searchParams) query[key] = value;
  } catch {
    // not a URL a query can be read from: none
  }
  return query;
}

/** `name=value; other=value` (RFC 6265); values percent-decoded where they can be; the first of a repeated name. */
function cookiesOf(header: string): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    let value = pair.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name === '' || name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}
