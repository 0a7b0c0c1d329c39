import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../control-plane/binaries.js';
import { buildah, projectImage } from './project-image.js';

/** The project's Dockerfile built with buildah from locally made bases (project-image.ts), and run. */
describe('the container image', () => {
  let tag: string;
  let container: string;
  let entrypoint: string[];

  before(() => {
    tag = projectImage();
    const config = JSON.parse(buildah('inspect', '--type', 'image', tag)) as { OCIv1: { config: { Entrypoint: string[]; User: string } } };
    entrypoint = config.OCIv1.config.Entrypoint;
    container = buildah('from', tag).trim();
  });

  after(() => {
    if (container) buildah('rm', container);
  });

  /**
   * What `docker run IMAGE <args>` prints: the image's entrypoint with these arguments. `buildah run` (chroot
   * isolation) now and then hands back nothing of a process that printed and exited at once (a busy machine, about
   * one run in twenty): empty output is asked for again, twice at most; any output at all is the answer.
   */
  const run = (...args: string[]) => {
    let output = '';
    for (let attempt = 0; attempt < 3 && output === ''; attempt++) output = buildah('run', container, '--', ...entrypoint, ...args);
    return output;
  };

  it('runs as a non-root user with the runtime CLI as its entrypoint', () => {
    const config = JSON.parse(buildah('inspect', '--type', 'image', tag)) as { OCIv1: { config: { User: string } } };
    assert.deepEqual(entrypoint, ['node', 'dist/runtime/cli.js']);
    assert.equal(config.OCIv1.config.User, '65532:65532');
    // A whole line: output without a trailing newline can be lost between the container and buildah.
    assert.equal(buildah('run', container, '--', 'node', '-e', 'console.log(process.getuid())').trim(), '65532');
  });

  for (const role of ['operator', 'register', 'gateway', 'worker', 'api', 'local']) {
    it(`answers ${role} --help`, () => {
      assert.match(run(role, '--help'), new RegExp(`^Usage: gwc ${role} \\[options\\]`));
    });
  }

  it('holds the bundled handlers, the wire format and the chat page, and no dev dependencies', () => {
    const listing = buildah('run', container, '--', 'node', '-e', `
      const fs = require('fs');
      console.log(JSON.stringify({
        handlers: fs.readdirSync('dist/runtime/bundled-handlers').filter((f) => f.endsWith('.js')),
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
