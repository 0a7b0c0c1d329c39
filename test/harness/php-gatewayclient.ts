/**
 * GatewayWorker's PHP GatewayClient, unchanged (shared/vendor/gatewayclient beside the repository, or
 * GWC_GATEWAYCLIENT_DIR), driven by php-cli through test/fixtures/php/gatewayclient-driver.php: one call at a time.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './wait.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DRIVER = path.join(repoRoot, 'test', 'fixtures', 'php', 'gatewayclient-driver.php');

/** The library's folder: GWC_GATEWAYCLIENT_DIR, or shared/vendor/gatewayclient beside the repository or a folder above it. */
export function gatewayClientDir(): string {
  if (process.env.GWC_GATEWAYCLIENT_DIR) return process.env.GWC_GATEWAYCLIENT_DIR;
  for (let dir = path.dirname(repoRoot); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'vendor', 'gatewayclient');
    if (existsSync(path.join(candidate, 'Gateway.php'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('GatewayClient not found: no shared/vendor/gatewayclient above the repository (set GWC_GATEWAYCLIENT_DIR)');
  }
}

export interface PhpAnswer {
  /** var_export() of the result: PHP's exact types and key order. */
  export?: string;
  json?: unknown;
  /** What the library echoed (its warnings). */
  echoed?: string;
  error?: string;
}

export class PhpGatewayClient {
  private readonly php: ChildProcessWithoutNullStreams;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  readonly stderr: string[] = [];

  constructor(registerAddress: string, secretKey: string, options: { persistent?: boolean } = {}) {
    this.php = spawn('php', [DRIVER], {
      env: { ...process.env, REGISTER: registerAddress, SECRET: secretKey, PERSISTENT: options.persistent ? '1' : '0', GATEWAYCLIENT_DIR: gatewayClientDir() },
    });
    createInterface({ input: this.php.stdout }).on('line', (line) => {
      const wake = this.waiting;
      this.waiting = undefined;
      if (wake) wake(line);
      else this.answers.push(line);
    });
    createInterface({ input: this.php.stderr }).on('line', (line) => this.stderr.push(line));
  }

  /** Gateway::$method(...$args) in PHP. */
  async call(method: string, ...args: unknown[]): Promise<PhpAnswer> {
    this.php.stdin.write(JSON.stringify({ method, args }) + '\n');
    const line = this.answers.shift() ?? (await withTimeout(`PHP Gateway::${method}`, new Promise<string>((resolve) => (this.waiting = resolve)), 15_000));
    return JSON.parse(line) as PhpAnswer;
  }

  /** The result of a call that must succeed, as var_export() wrote it. */
  async exported(method: string, ...args: unknown[]): Promise<string> {
    const answer = await this.call(method, ...args);
    if (answer.error !== undefined) throw new Error(`Gateway::${method}: ${answer.error}`);
    return answer.export!;
  }

  close(): void {
    this.php.stdin.end();
  }
}
