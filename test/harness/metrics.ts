/**
 * One sample's value from a Prometheus text page. `name` alone matches the sample whatever its labels;
 * `name{a="b",...}` matches exactly that label set. NaN when there is no such sample.
 */
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => (name.includes('{') ? l.startsWith(`${name} `) : new RegExp(`^${name}(\\{[^}]*\\})? `).test(l)));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function scrapeMetric(url: string, name: string): Promise<number> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return metricValue(await response.text(), name);
}
