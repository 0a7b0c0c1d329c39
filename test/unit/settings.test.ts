import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { gatewaySettings, registerSettings, ROLE_SETTINGS, workerSettings } from '../../runtime/config/role-settings.js';
import { ConfigError, helpText, loadSettings, resolveSecret } from '../../runtime/config/settings.js';
import { cliPath } from '../harness/role-process.js';
import { withTimeout } from '../harness/wait.js';

/** The ConfigError a call throws; fails the test when it throws nothing or something else. */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

function assertOneLineNaming(error: ConfigError, ...names: string[]): void {
  assert.doesNotMatch(error.message, /\n/, 'the message is one line');
  for (const name of names) assert.ok(error.message.includes(name), `"${error.message}" should name ${name}`);
}

describe('loadSettings precedence', () => {
  it('takes defaults when neither a flag nor an environment variable is given', () => {
    const settings = loadSettings('gateway', gatewaySettings, [], {});
    assert.equal(settings.port, 7272);
    assert.equal(settings.protocol, 'websocket');
    assert.equal(settings.pingInterval, 25);
    assert.equal(settings.lanIp, '127.0.0.1');
    assert.deepEqual(settings.registerAddress, ['127.0.0.1:1236']);
    assert.equal(settings.router, 'sticky');
    assert.equal(settings.internalHost, undefined);
  });

  it('lets environment variables beat defaults', () => {
    const settings = loadSettings('gateway', gatewaySettings, [], {
      GWC_PORT: '8000',
      GWC_PROTOCOL: 'text',
      GWC_PING_INTERVAL: '2.5',
      GWC_LAN_IP: 'fd00::5',
      GWC_REGISTER_ADDRESS: '[fd00::1]:1236',
    });
    assert.equal(settings.port, 8000);
    assert.equal(settings.protocol, 'text');
    assert.equal(settings.pingInterval, 2.5);
    assert.equal(settings.lanIp, 'fd00::5');
    assert.deepEqual(settings.registerAddress, ['[fd00::1]:1236']);
    assert.deepEqual(loadSettings('worker', workerSettings, ['--register-address', 'r1:1236, r2:1236'], {}).registerAddress, ['r1:1236', 'r2:1236'], 'several Registers');
    assert.throws(() => loadSettings('worker', workerSettings, ['--register-address', ' , '], {}), /--register-address.*at least one/);
  });

  it('lets flags beat environment variables', () => {
    const settings = loadSettings(
      'gateway',
      gatewaySettings,
      ['--port', '9000', '--protocol=frame', '--ping-interval', '0'],
      { GWC_PORT: '8000', GWC_PROTOCOL: 'text', GWC_PING_INTERVAL: '10', GWC_ROUTER: 'random' },
    );
    assert.equal(settings.port, 9000);
    assert.equal(settings.protocol, 'frame');
    assert.equal(settings.pingInterval, 0);
    assert.equal(settings.router, 'random', 'an env var with no flag still applies');
  });

  it('treats an empty environment variable as unset', () => {
    const settings = loadSettings('gateway', gatewaySettings, [], { GWC_PORT: '', GWC_PROTOCOL: '' });
    assert.equal(settings.port, 7272);
    assert.equal(settings.protocol, 'websocket');
  });

  it('loads register and worker settings too', () => {
    assert.equal(loadSettings('register', registerSettings, ['--port', '1300'], {}).port, 1300);
    const worker = loadSettings('worker', workerSettings, [], { GWC_HANDLER: 'chat', GWC_PROCESS_TIMEOUT: '5' });
    assert.equal(worker.handler, 'chat');
    assert.equal(worker.processTimeout, 5);
  });
});

describe('loadSettings rejects bad values with one line naming the flag and the env var', () => {
  const cases: Array<[flag: string, value: string, env: string]> = [
    ['--ping-interval', 'abc', 'GWC_PING_INTERVAL'],
    ['--ping-interval', '-1', 'GWC_PING_INTERVAL'],
    ['--protocol', 'foo', 'GWC_PROTOCOL'],
    ['--lan-ip', 'not-an-ip', 'GWC_LAN_IP'],
    ['--register-address', 'nope', 'GWC_REGISTER_ADDRESS'],
    ['--register-address', 'fd00::1:1236', 'GWC_REGISTER_ADDRESS'],
    ['--port', '70000', 'GWC_PORT'],
    ['--port', '1.5', 'GWC_PORT'],
    ['--max-payload', '0', 'GWC_MAX_PAYLOAD'],
    ['--router', 'least-busy', 'GWC_ROUTER'],
    ['--log-level', 'verbose', 'GWC_LOG_LEVEL'],
  ];
  for (const [flag, value, env] of cases) {
    // A value starting with "-" must be attached with "=", or parseArgs takes it for a flag.
    const argv = value.startsWith('-') ? [`${flag}=${value}`] : [flag, value];
    it(argv.join(' '), () => {
      const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, argv, {}));
      assertOneLineNaming(error, 'gateway', flag, env, JSON.stringify(value));
    });
  }

  it('names the flag when the bad value came from the environment', () => {
    const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, [], { GWC_PING_INTERVAL: 'abc' }));
    assertOneLineNaming(error, '--ping-interval', 'GWC_PING_INTERVAL', '"abc"');
  });

  it('rejects a bad flag even when the environment holds a good value', () => {
    const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, ['--protocol', 'foo'], { GWC_PROTOCOL: 'text' }));
    assertOneLineNaming(error, '--protocol', '"foo"');
  });

  it('rejects unknown flags', () => {
    const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, ['--no-such-flag', '1'], {}));
    assertOneLineNaming(error, 'gateway', '--no-such-flag');
  });

  it('rejects a flag of another role', () => {
    const error = configErrorOf(() => loadSettings('register', registerSettings, ['--protocol', 'text'], {}));
    assertOneLineNaming(error, 'register', '--protocol');
  });

  it('rejects positional arguments', () => {
    const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, ['stray'], {}));
    assertOneLineNaming(error, 'gateway', 'stray');
  });

  it('rejects a flag given without its value', () => {
    const error = configErrorOf(() => loadSettings('gateway', gatewaySettings, ['--port'], {}));
    assertOneLineNaming(error, 'gateway', '--port');
  });
});

describe('resolveSecret', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gwc-settings-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes --secret as bytes', () => {
    assert.ok(resolveSecret('gateway', 'sixteen-chars-ok', undefined).equals(Buffer.from('sixteen-chars-ok')));
  });

  it('fails when there is neither a secret nor a secret file', () => {
    assertOneLineNaming(configErrorOf(() => resolveSecret('gateway', undefined, undefined)), 'gateway', '--secret', 'GWC_SECRET', '--secret-file');
  });

  it('fails on a secret shorter than 16 characters', () => {
    assertOneLineNaming(configErrorOf(() => resolveSecret('worker', 'fifteen-chars-x', undefined)), 'worker', '--secret', 'GWC_SECRET', '16');
  });

  it('reads the secret from a file, trimming the trailing newline', () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, 'a-secret-from-a-mounted-file\n');
    assert.equal(resolveSecret('gateway', undefined, file).toString(), 'a-secret-from-a-mounted-file');
  });

  it('prefers --secret over --secret-file', () => {
    const file = path.join(dir, 'ignored-secret');
    writeFileSync(file, 'the-file-secret-is-not-used');
    assert.equal(resolveSecret('gateway', 'the-flag-secret-wins', file).toString(), 'the-flag-secret-wins');
  });

  it('fails on a secret file holding a short secret', () => {
    const file = path.join(dir, 'short-secret');
    writeFileSync(file, 'short\n');
    assertOneLineNaming(configErrorOf(() => resolveSecret('gateway', undefined, file)), '--secret', '16');
  });

  it('fails on a secret file that cannot be read', () => {
    const missing = path.join(dir, 'no-such-file');
    assertOneLineNaming(configErrorOf(() => resolveSecret('register', undefined, missing)), 'register', '--secret-file', 'GWC_SECRET_FILE', missing);
    assertOneLineNaming(configErrorOf(() => resolveSecret('register', undefined, dir)), '--secret-file', dir);
  });
});

describe('a bad setting on the command line', () => {
  /** Runs the CLI with no GWC_* variables from the test's own environment except those given. */
  async function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('GWC_')));
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const code = await withTimeout(`gwc ${args.join(' ')} to exit`, exited, 15_000);
      return { code, stderr, stdout };
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  function assertOneStderrLine(stderr: string, ...names: string[]): void {
    const lines = stderr.split('\n').filter((line) => line.length > 0);
    assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
    for (const name of names) assert.ok(lines[0]!.includes(name), `"${lines[0]}" should name ${name}`);
    assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  }

  it('gateway --ping-interval abc exits 2 with one line naming the flag', async () => {
    const result = await runCli(['gateway', '--ping-interval', 'abc'], { GWC_SECRET: 'a-long-enough-test-secret' });
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assertOneStderrLine(result.stderr, '--ping-interval', 'GWC_PING_INTERVAL');
  });

  it('worker --handler /no/such/file exits 2 with one line naming the flag', async () => {
    const result = await runCli(['worker', '--handler', '/no/such/file'], { GWC_SECRET: 'a-long-enough-test-secret', GWC_METRICS_PORT: '0' });
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assertOneStderrLine(result.stderr, '--handler', '/no/such/file');
  });

  it('a missing secret exits 2 with one line naming it', async () => {
    const result = await runCli(['register'], {});
    assert.equal(result.code, 2, `stderr: ${result.stderr}`);
    assertOneStderrLine(result.stderr, '--secret', 'GWC_SECRET');
  });
});

describe('a worker\'s index', () => {
  it('is the number its name ends in, else 0, unless --worker-index sets it', async () => {
    const { indexFromName } = await import('../../runtime/worker/business-worker.js');
    assert.equal(indexFromName('chat-worker-12'), 12);
    assert.equal(indexFromName('worker0'), 0);
    assert.equal(indexFromName('worker'), 0);
    assert.equal(loadSettings('worker', workerSettings, ['--worker-index', '3'], {}).workerIndex, 3);
    assert.equal(loadSettings('worker', workerSettings, [], {}).workerIndex, undefined);
    assert.throws(() => loadSettings('worker', workerSettings, ['--worker-index', '-1'], {}), /--worker-index/);
  });
});

describe('--help', () => {
  it('shows a default only where a setting has one', () => {
    for (const [role, specs] of Object.entries(ROLE_SETTINGS)) {
      const help = helpText(role, '', specs);
      assert.doesNotMatch(help, /\(default: \)/, role);
      assert.match(help, /--heartbeat-interval .*\(default: 10\)/, role);
    }
  });
});
