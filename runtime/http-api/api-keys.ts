import * as crypto from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, MIN_SECRET_LENGTH } from '../config/settings.js';
import type { Logger } from '../observability/log.js';

/** How often the key file is looked at for a change (Kubernetes updates a mounted Secret in place). */
const FILE_CHECK_MS = 1000;

/** Keys separated by commas or line breaks; blank entries ignored. */
export function parseKeys(text: string): string[] {
  return text.split(/[,\r\n]/).map((key) => key.trim()).filter(Boolean);
}

/**
 * The API keys that are valid now: those given directly plus those in a file, re-read when the file changes, so keys
 * rotate without a restart (add the new key, move clients over, remove the old one). Comparisons take the same time
 * whatever the presented key, so timing tells an attacker nothing about a key.
 */
export class ApiKeys {
  private digests: Buffer[] = [];
  private fileStamp = '';
  private checkedAt = 0;

  constructor(
    private readonly direct: string[],
    private readonly file: string | undefined,
    private readonly log: Logger,
  ) {
    this.reload(true);
  }

  get count(): number {
    this.refresh();
    return this.digests.length;
  }

  /** Whether an Authorization header carries a valid key (`Bearer <key>`). */
  allows(authorization: string | undefined): boolean {
    this.refresh();
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return false;
    const presented = digest(match[1]!);
    let valid = false;
    for (const known of this.digests) valid = crypto.timingSafeEqual(presented, known) || valid;
    return valid;
  }

  private refresh(): void {
    if (this.file === undefined || Date.now() - this.checkedAt < FILE_CHECK_MS) return;
    this.reload(false);
  }

  /** At start a bad key or file is a ConfigError; later a file that became unreadable keeps the keys it had. */
  private reload(starting: boolean): void {
    this.checkedAt = Date.now();
    let keys = this.direct;
    if (this.file !== undefined) {
      try {
        const stat = statSync(this.file);
        const stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
        if (!starting && stamp === this.fileStamp) return;
        this.fileStamp = stamp;
        keys = [...keys, ...parseKeys(readFileSync(this.file, 'utf8'))];
      } catch (error) {
        if (starting) throw new ConfigError(`api: invalid setting --api-key-file (GWC_API_KEY_FILE): ${(error as Error).message}`);
        this.log.error('API key file unreadable: the keys read before stay valid', { file: this.file, error });
        return;
      }
    }
    const short = keys.find((key) => key.length < MIN_SECRET_LENGTH);
    if (short !== undefined || keys.length === 0) {
      const problem = keys.length === 0 ? 'no API key given' : `an API key is shorter than ${MIN_SECRET_LENGTH} characters`;
      if (starting) throw new ConfigError(`api: ${problem}: set --api-key (GWC_API_KEY) or --api-key-file (GWC_API_KEY_FILE)`);
      this.log.error(`API key file changed, but ${problem}: the keys read before stay valid`, { file: this.file });
      return;
    }
    this.digests = keys.map(digest);
    if (!starting) this.log.info('API keys reloaded', { file: this.file, keys: keys.length });
  }
}

/** One-shot crypto.hash where Node has it (20.12 on), several times cheaper than a Hash object per request. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

function digest(key: string): Buffer {
  return oneShotHash ? oneShotHash('sha256', key, 'buffer') : crypto.createHash('sha256').update(key).digest();
}
