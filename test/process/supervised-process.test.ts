/**
 * The process supervisor of `gwc local`, the harness and the bench: a wait on a process that has exited fails at
 * once, quoting what the process last wrote, instead of running out its deadline.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { ProcessExitedError, SupervisedProcess } from '../../runtime/supervisor/supervised-process.js';
import { RoleProcess } from '../harness/role-process.js';
import { claimSubnet } from '../harness/subnets.js';
import { TEST_SECRET } from '../harness/test-cluster.js';
import { waitFor } from '../harness/wait.js';

/** Far longer than any of these waits may take: a wait that runs its deadline out fails the test by its own. */
const DEADLINE_MS = 30_000;
const AT_ONCE_MS = 5_000;

/** How long `promise` takes to reject, and with what. */
async function rejection(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  const error = await promise.then(() => assert.fail('the wait succeeded'), (error: Error) => error);
  return { error, ms: Date.now() - started };
}

describe('a wait on a process', () => {
  it('rejects as soon as the process exits, with its exit and its last lines', async () => {
    const script = `console.log(JSON.stringify({ level: 'info', msg: 'first words' }));
      console.log(JSON.stringify({ level: 'error', msg: 'last words' }));
      console.error('a line on stderr');
      process.exitCode = 3;`;
    const child = new SupervisedProcess({ label: 'doomed', command: [process.execPath, '-e', script] });
    const { error, ms } = await rejection(child.waitForEvent('ready', {}, DEADLINE_MS));
    assert.ok(error instanceof ProcessExitedError, String(error));
    assert.ok(ms < AT_ONCE_MS, `rejected after ${ms} ms`);
    assert.deepEqual(error.exit, { code: 3, signal: null });
    assert.match(error.message, /doomed exited \(code 3\) while waiting for doomed to report ready/);
    assert.match(error.message, /"msg":"last words"/);
    assert.match(error.message, /stderr: a line on stderr/);
    // A wait begun after the exit fails the same way.
    await assert.rejects(child.waitForEvent('stopped', {}, DEADLINE_MS), ProcessExitedError);
  });

  it('on a role that cannot start: the gateway\'s own last log lines say why', async () => {
    const { ip } = await claimSubnet();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(7272, ip(10), resolve));
    try {
      const gateway = new RoleProcess('gateway', ['gateway', '--host', ip(10), '--lan-ip', ip(10), '--metrics-port', '0',
        '--register-address', `${ip(1)}:1236`], { GWC_SECRET: TEST_SECRET });
      const { error, ms } = await rejection(gateway.waitForEvent('ready', {}, DEADLINE_MS));
      assert.ok(error instanceof ProcessExitedError, String(error));
      assert.ok(ms < AT_ONCE_MS, `rejected after ${ms} ms`);
      assert.equal(error.exit.code, 1);
      assert.match(error.message, /"logEvent":"start-failed"/);
      assert.match(error.message, /EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });

  it('polled by waitFor, fails at once when the condition finds the process gone', async () => {
    const child = new SupervisedProcess({ label: 'short-lived', command: [process.execPath, '-e', 'setTimeout(() => {}, 200)'] });
    const { error, ms } = await rejection(waitFor('something the process never does', () => {
      child.assertRunning('something the process never does');
      return false;
    }, DEADLINE_MS));
    assert.ok(error instanceof ProcessExitedError, String(error));
    assert.ok(ms < AT_ONCE_MS, `rejected after ${ms} ms`);
  });

  it('still waits for what comes, and stops a process that ignores SIGTERM within its budget', async () => {
    const script = `process.on('SIGTERM', () => {});
      setTimeout(() => console.log(JSON.stringify({ level: 'info', msg: 'ready', logEvent: 'ready', port: 1 })), 300);
      setInterval(() => {}, 1000);`;
    const child = new SupervisedProcess({ label: 'stubborn', command: [process.execPath, '-e', script] });
    const ready = await child.waitForEvent('ready', { port: 1 }, DEADLINE_MS);
    assert.equal(ready.msg, 'ready');
    const started = Date.now();
    const exit = await child.stop('SIGTERM', 500);
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(Date.now() - started < AT_ONCE_MS);
  });
});
