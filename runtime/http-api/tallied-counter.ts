import { Counter, type Registry } from 'prom-client';

/** A counter of two labels, incremented by their values. */
export interface TalliedCounter {
  /** Adds `by` (1 unless given) to the series of these labels. */
  inc(first: string, second: string | number, by?: number): void;
}

/**
 * A prom-client Counter of two labels whose increments are tallied in plain maps and handed to it when it is read
 * (a scrape): a request adds to a number instead of prom-client hashing and checking its labels each time. What a
 * scrape shows is the same; a series appears once it has been counted, as before.
 */
export function talliedCounter(config: { name: string; help: string; labelNames: [string, string]; registry: Registry }): TalliedCounter {
  const [firstLabel, secondLabel] = config.labelNames;
  const tallies = new Map<string, Map<string | number, { labels: Record<string, string | number>; count: number }>>();
  new Counter({
    name: config.name,
    help: config.help,
    labelNames: config.labelNames,
    registers: [config.registry],
    collect() {
      for (const bySecond of tallies.values()) {
        for (const tally of bySecond.values()) {
          if (tally.count === 0) continue;
          this.inc(tally.labels, tally.count);
          tally.count = 0;
        }
      }
    },
  });
  return {
    inc(first, second, by = 1) {
      let bySecond = tallies.get(first);
      if (!bySecond) tallies.set(first, (bySecond = new Map()));
      const tally = bySecond.get(second);
      if (tally) tally.count += by;
      else bySecond.set(second, { labels: { [firstLabel]: first, [secondLabel]: second }, count: by });
    },
  };
}
