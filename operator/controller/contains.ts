import { sameQuantity } from './quantity.js';

/**
 * The first path where `desired` is not already in `live`, or undefined when every field of `desired` is present
 * with the same value: what server-side apply would send is already there, so the apply can be skipped. Fields the
 * server added (defaults, status, other managers) do not matter; arrays must match element by element.
 */
export function firstDifference(live: unknown, desired: unknown, path = ''): string | undefined {
  if (desired === null || typeof desired !== 'object') {
    if (sameScalar(live, desired)) return undefined;
    return QUANTITY_PATH.test(path) && sameQuantity(live, desired) ? undefined : path || '.';
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return `${path} (length)`;
    for (let i = 0; i < desired.length; i++) {
      const found = firstDifference(live[i], desired[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return path || '.';
  const liveRecord = live as Record<string, unknown>;
  for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
    if (value === undefined) continue;
    const found = firstDifference(liveRecord[key], value, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** Resource requests and limits, which the API server rewrites into canonical quantities. */
const QUANTITY_PATH = /\.resources\.(requests|limits)\.[^.]+$/;

export function contains(live: unknown, desired: unknown): boolean {
  return firstDifference(live, desired) === undefined;
}

/**
 * Numbers the API server may hand back as strings (int-or-string fields) still count as equal, and so does a zero
 * value it leaves out (Kubernetes types omit empty fields: `initialDelaySeconds: 0` comes back absent).
 */
function sameScalar(live: unknown, desired: unknown): boolean {
  if (live === desired) return true;
  if (live === undefined) return desired === 0 || desired === false || desired === '';
  return (typeof live === 'number' || typeof live === 'string') && (typeof desired === 'number' || typeof desired === 'string') && String(live) === String(desired);
}
