const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The value of a Kubernetes resource quantity ("500m", "0.5", "1Gi", "1e3"), or undefined when it is not one. The API
 * server rewrites quantities into its canonical form (cpu "0.5" comes back "500m"), so they are compared by value.
 */
export function quantityValue(text: string | number): number | undefined {
  if (typeof text === 'number') return text;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(text);
  if (!match) return undefined;
  const [, number, exponent, suffix = ''] = match;
  return Number(number) * (exponent ? 10 ** Number(exponent.slice(1)) : SUFFIX[suffix]!);
}

export function sameQuantity(a: unknown, b: unknown): boolean {
  if ((typeof a !== 'string' && typeof a !== 'number') || (typeof b !== 'string' && typeof b !== 'number')) return false;
  const x = quantityValue(a);
  const y = quantityValue(b);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= Math.abs(x) * 1e-12;
}
