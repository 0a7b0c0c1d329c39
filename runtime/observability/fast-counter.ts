import { Counter, type Registry } from 'prom-client';

/**
 * A Prometheus counter for hot paths: `count++` on a plain number (or a `read` function over numbers kept
 * elsewhere), folded into the prom-client Counter only when /metrics is scraped.
 */
export class FastCounter {
  count = 0;
  private reported = 0;

  constructor(name: string, help: string, registry: Registry, read?: () => number) {
    const self = this;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read ? read() : self.count;
        this.inc(now - self.reported);
        self.reported = now;
      },
    });
  }
}
