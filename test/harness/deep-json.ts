/**
 * Sessions nested to a given depth (itself the first level), as JSON text and as values, built without recursion:
 * the tests go far past what any recursive builder or JSON.stringify could take.
 */

/** `depth` levels of objects (`{"deep":{"deep":{}}}`) or, below the top object, arrays (`{"deep":[[]]}`). */
export function deepSessionJson(depth: number, inner: 'object' | 'array' = 'array'): string {
  if (depth < 1) throw new RangeError('a session is at least 1 level deep');
  const below = depth - 1;
  if (below === 0) return '{}';
  const nested = inner === 'array' ? '['.repeat(below) + ']'.repeat(below) : '{"deep":'.repeat(below - 1) + '{}' + '}'.repeat(below - 1);
  return `{"deep":${nested}}`;
}

/** The same as a value. */
export function deepSession(depth: number, inner: 'object' | 'array' = 'array'): Record<string, unknown> {
  let value: unknown = inner === 'array' ? [] : {};
  for (let level = 2; level < depth; level++) value = inner === 'array' ? [value] : { deep: value };
  return depth === 1 ? {} : { deep: value };
}
