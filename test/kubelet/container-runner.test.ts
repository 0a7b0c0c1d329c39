import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { V1Container } from '@kubernetes/client-node';
import { ContainerRunner, ContainerWaitingError, type RestartPolicy } from './container-runner.js';
import { waitFor } from '../harness/wait.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kubelet-runner-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function runner(script: string, restartPolicy: RestartPolicy, container: Partial<V1Container> = {}, prepareError?: () => Error | undefined): ContainerRunner {
  const logFile = path.join(tmp, `${Math.random().toString(36).slice(2)}.log`);
  const env = { PATH: process.env.PATH ?? '', OUT: tmp };
  return new ContainerRunner({
    container: { name: 'c', ...container },
    init: false,
    restartPolicy,
    prepare: async () => {
      const error = prepareError?.();
      if (error) throw error;
      return {
        spec: { file: process.execPath, args: ['-e', script], env, cwd: tmp, logFile },
        action: { podIP: '127.0.0.1', ports: [], env, cwd: tmp, rewrite: (v) => v },
      };
    },
    graceMs: () => 1000,
    onChange: () => {},
    log: () => {},
  });
}

const state = (r: ContainerRunner) => (r.status('img') as unknown as { state: Record<string, { reason?: string; exitCode?: number } | null> }).state;

describe('the container runner', () => {
  it('restarts an exiting container with Always, counting restarts and keeping the last termination', async () => {
    const r = runner('setTimeout(() => process.exit(3), 100)', 'Always');
    r.start();
    await waitFor('a restart', () => r.restartCount >= 1 && r.state.kind === 'running', 10_000);
    const status = r.status('img') as unknown as { lastState: { terminated: { exitCode: number; reason: string } }; containerID: string; ready: boolean };
    assert.equal(status.lastState.terminated.exitCode, 3);
    assert.equal(status.lastState.terminated.reason, 'Error');
    assert.match(status.containerID, /^process:\/\/\d+$/);
    await waitFor('CrashLoopBackOff', () => state(r).waiting?.reason === 'CrashLoopBackOff', 10_000);
    await r.shutdown(Date.now() + 1000, { preStop: false });
    assert.equal(r.finished, true);
    assert.ok(state(r).terminated);
  });

  it('OnFailure does not restart a success; Never does not restart a failure', async () => {
    const ok = runner('process.exit(0)', 'OnFailure');
    ok.start();
    await ok.whenFinished;
    assert.equal(ok.lastExitCode, 0);
    assert.equal(state(ok).terminated?.reason, 'Completed');
    const failed = runner('process.exit(2)', 'Never');
    failed.start();
    await failed.whenFinished;
    assert.equal(failed.lastExitCode, 2);
    assert.equal(failed.restartCount, 0);
  });

  it('waits with the reason prepare gives, and starts once it can', async () => {
    let ready = false;
    const r = runner('setInterval(() => {}, 1000)', 'Always', {}, () => (ready ? undefined : new ContainerWaitingError('CreateContainerConfigError', 'secret "x" not found')));
    r.start();
    await waitFor('the waiting reason', () => state(r).waiting?.reason === 'CreateContainerConfigError', 5000);
    assert.equal((r.status('img') as unknown as { state: { waiting: { message: string } } }).state.waiting.message, 'secret "x" not found');
    ready = true;
    await waitFor('running', () => r.state.kind === 'running' && r.ready, 10_000);
    assert.equal(r.restartCount, 0);
    await r.shutdown(Date.now() + 1000, { preStop: false });
    assert.equal(state(r).terminated?.exitCode, 143, 'SIGTERM without a handler');
  });

  it('shutdown runs the preStop hook, then SIGTERM, then SIGKILL at the deadline', async () => {
    const marker = path.join(tmp, 'prestop');
    const fs = "require('fs')";
    const r = runner(`process.on('SIGTERM', () => ${fs}.writeFileSync(process.env.OUT + '/sigterm', 'x')); ${fs}.writeFileSync(process.env.OUT + '/handler', 'x'); setInterval(() => {}, 1000)`, 'Always', {
      lifecycle: { preStop: { exec: { command: ['sh', '-c', `echo ran > ${marker}`] } } },
    });
    r.start();
    await waitFor('the SIGTERM handler to be installed', () => r.state.kind === 'running' && existsSync(path.join(tmp, 'handler')), 10_000);
    const started = Date.now();
    await r.shutdown(Date.now() + 2500, { preStop: true });
    assert.equal(readFileSync(marker, 'utf8'), 'ran\n');
    assert.ok(existsSync(path.join(tmp, 'sigterm')), 'SIGTERM was delivered');
    assert.equal(state(r).terminated?.exitCode, 137, 'killed by SIGKILL');
    assert.ok(Date.now() - started >= 2000, 'not before the deadline');
  });

  it('is neither started nor ready until its startup probe passes', async () => {
    const flag = path.join(tmp, 'started-flag');
    const r = runner('setInterval(() => {}, 1000)', 'Always', { startupProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 30 } });
    r.start();
    await waitFor('running', () => r.state.kind === 'running', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(r.started, false);
    assert.equal(r.ready, false);
    writeFileSync(flag, '');
    await waitFor('started and ready', () => r.started && r.ready, 10_000);
    assert.equal(r.restartCount, 0);
    await r.shutdown(Date.now() + 1000, { preStop: false });
  });

  it('restarts a container whose liveness probe fails', async () => {
    const r = runner('setInterval(() => {}, 1000)', 'Always', { livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } });
    r.start();
    await waitFor('a liveness restart', () => r.restartCount >= 1, 15_000);
    const last = (r.status('img') as unknown as { lastState: { terminated: { message: string } } }).lastState.terminated;
    assert.match(last.message, /Liveness probe failed/);
    await r.shutdown(Date.now() + 1000, { preStop: false });
  });
});
