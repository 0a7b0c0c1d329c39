import { createHash, type X509Certificate } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../observability/log.js';
import { checkTlsMaterial, describeCertificate, readTlsMaterial, TlsMaterialError, type TlsFiles, type TlsMaterial } from './tls-material.js';

/** How often the files are read again. */
const RELOAD_INTERVAL_MS = 2000;

export interface TlsReloaderOptions {
  log: Logger;
  /** Counts reloads by result, "ok" or "error". */
  reloads: Counter<'result'>;
}

/** A counter of certificate reloads by result, registered once per registry. */
export function tlsReloadCounter(registry: Registry, name: string, help: string): Counter<'result'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'result'>;
  return new Counter({ name, help, labelNames: ['result'] as const, registers: [registry] });
}

/**
 * A certificate pair kept current from its files. The constructor reads and checks them (throwing TlsMaterialError
 * naming the bad file); start() then re-reads them every two seconds and hands a changed pair to `apply` once it
 * checks out. A bad pair is logged and counted, and the last good one stays in use.
 *
 * Polling rather than fs.watch: Kubernetes updates a mounted Secret by writing a new hidden directory and renaming
 * the `..data` symlink over the old one, so a watch on the file keeps following the old inode and goes silent, and
 * directory watches behave differently across platforms and volume types. Reading a few KB every two seconds and
 * comparing hashes sees whatever the paths resolve to now, however they were changed.
 */
export class TlsReloader {
  material: TlsMaterial;
  private state: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly files: TlsFiles,
    private readonly options: TlsReloaderOptions,
  ) {
    this.material = readTlsMaterial(files);
    this.state = digest(this.material);
    this.loaded(checkTlsMaterial(this.material, files));
  }

  start(apply: (material: TlsMaterial) => void): this {
    this.timer = setInterval(() => this.poll(apply), RELOAD_INTERVAL_MS);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(apply: (material: TlsMaterial) => void): void {
    let material: TlsMaterial | undefined;
    let state: string;
    try {
      material = readTlsMaterial(this.files);
      state = digest(material);
    } catch (error) {
      state = (error as Error).message;
    }
    // Each change is acted on once, so a bad pair left in place is reported once, not every two seconds.
    if (state === this.state) return;
    this.state = state;
    try {
      if (!material) throw new TlsMaterialError(state);
      const certificate = checkTlsMaterial(material, this.files);
      apply(material);
      this.material = material;
      this.options.reloads.inc({ result: 'ok' });
      this.loaded(certificate);
    } catch (error) {
      this.options.reloads.inc({ result: 'error' });
      this.options.log.error('tls certificate reload failed; the previous certificate stays in use', { logEvent: 'tls-reload-failed', ...this.fileFields(), error: (error as Error).message });
    }
  }

  private loaded(certificate: X509Certificate): void {
    this.options.log.info('tls certificate loaded', { logEvent: 'tls-loaded', ...this.fileFields(), ...describeCertificate(certificate) });
  }

  private fileFields() {
    return { cert: this.files.cert, key: this.files.key, ...(this.files.ca !== undefined ? { ca: this.files.ca } : {}) };
  }
}

function digest(material: TlsMaterial): string {
  const hash = createHash('sha256');
  for (const part of [material.cert, material.key, material.ca ?? '']) hash.update(part).update('\0');
  return hash.digest('hex');
}
