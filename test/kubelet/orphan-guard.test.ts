import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { orphanGuardPreloadPath } from './service-dns.js';
import { KUBELET_PID_ENV } from './service-dns-names.js';
import { withTimeout } from '../harness/wait.js';

describe('the orphan guard preload', () => {
  it('ends a pod process once the kubelet\'s process is gone', async () => {
    const fakeKubelet = spawn('sleep', ['60'], { stdio: 'ignore' });
    const podProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: `--import=${pathToFileURL(orphanGuardPreloadPath).href}`, [KUBELET_PID_ENV]: String(fakeKubelet.pid) },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => podProcess.once('exit', (_code, signal) => resolve(signal)));
    try {
      // Still running while the "kubelet" lives.
      const early = await Promise.race([exited.then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('alive'), 1500))]);
      assert.equal(early, 'alive');
      fakeKubelet.kill('SIGKILL');
      assert.equal(await withTimeout('the pod process to end', exited, 5000), 'SIGKILL');
    } finally {
      fakeKubelet.kill('SIGKILL');
      podProcess.kill('SIGKILL');
    }
  });
});
