import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../control-plane/binaries.js';

/** Builds the project's Dockerfile with buildah (no Docker engine here) from locally made bases, and runs it. */
const env = { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' };
const tag = `localhost/gateway-cluster:test-${process.pid}`;

function buildah(...args: string[]): string {
  return execFileSync('buildah', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

describe('the container image', () => {
  let container: string;
  let entrypoint: string[];

  before(() => {
    const [runtimeBase, buildBase] = execFileSync('bash', [path.join(repoRoot, 'test/image/make-base-images.sh')], { env, encoding: 'utf8' }).trim().split('\n');
    buildah('bud', '--layers=false', '-q', '--build-arg', `BUILD_IMAGE=${buildBase}`, '--build-arg', `BASE_IMAGE=${runtimeBase}`,
      '-t', tag, '-f', path.join(repoRoot, 'Dockerfile'), repoRoot);
    const config = JSON.parse(buildah('inspect', '--type', 'image', tag)) as { OCIv1: { config: { Entrypoint: string[]; User: string } } };
    entrypoint = config.OCIv1.config.Entrypoint;
    container = buildah('from', tag).trim();
  });

  after(() => {
    if (container) buildah('rm', container);
    buildah('rmi', '-f', tag);
  });

  /** What `docker run IMAGE <args>` prints: the image's entrypoint with these arguments. */
  const run = (...args: string[]) => buildah('run', container, '--', ...entrypoint, ...args);

  it('runs as a non-root user with the runtime CLI as its entrypoint', () => {
    const config = JSON.parse(buildah('inspect', '--type', 'image', tag)) as { OCIv1: { config: { User: string } } };
    assert.deepEqual(entrypoint, ['node', 'dist/runtime/cli.js']);
    assert.equal(config.OCIv1.config.User, '65532:65532');
    assert.equal(buildah('run', container, '--', 'node', '-e', 'process.stdout.write(String(process.getuid()))'), '65532');
  });

  for (const role of ['operator', 'register', 'gateway', 'worker', 'local']) {
    it(`answers ${role} --help`, () => {
      assert.match(run(role, '--help'), new RegExp(`^Usage: gwc ${role} \\[options\\]`));
    });
  }

  it('holds the bundled handlers, the wire format and the chat page, and no dev dependencies', () => {
    const listing = buildah('run', container, '--', 'node', '-e', `
      const fs = require('fs');
      console.log(JSON.stringify({
        handlers: fs.readdirSync('dist/runtime/handlers').filter((f) => f.endsWith('.js')),
        proto: fs.existsSync('runtime/proto/gwc.proto'),
        page: fs.existsSync('runtime/web/chat/index.html'),
        typescript: fs.existsSync('node_modules/typescript'),
        tests: fs.existsSync('dist/test'),
      }));`);
    assert.deepEqual(JSON.parse(listing), { handlers: ['chat.js', 'echo.js'], proto: true, page: true, typescript: false, tests: false });
  });

  it('runs the Node.js LTS the bases were made with', () => {
    const pinned = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(path.join(repoRoot, 'test/image/versions.env'), 'utf8'))![1];
    assert.equal(buildah('run', container, '--', 'node', '--version').trim(), `v${pinned}`);
  });
});
