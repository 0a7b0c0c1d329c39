/**
 * True when every field of `desired` is present in `live` with the same value: what server-side apply would send
 * is already there, so the apply can be skipped. Fields the server added (defaults, status, other managers) do
 * not matter; arrays must have the same length and match element by element.
 */
export function contains(live: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return sameScalar(live, desired);
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((item, i) => contains(live[i], item));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveRecord = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) => value === undefined || contains(liveRecord[key], value));
}

/** Numbers the API server may hand back as strings (int-or-string fields) still count as equal. */
function sameScalar(live: unknown, desired: unknown): boolean {
  if (live === desired) return true;
  return (typeof live === 'number' || typeof live === 'string') && (typeof desired === 'number' || typeof desired === 'string') && String(live) === String(desired);
}
