/**
 * The npm package as users get it from a registry: `npm pack`, installed into a project of its own, where its
 * command runs, its module loads (with the wire format it reads at run time) and TypeScript finds its types.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../control-plane/binaries.js';

const npm = (cwd: string, ...args: string[]) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

describe('the npm package', () => {
  let work: string;
  let archive: string;
  let files: string[];

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'gwc-npm-'));
    const [packed] = JSON.parse(npm(repoRoot, 'pack', '--json', '--pack-destination', work)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    archive = path.join(work, packed!.filename);
    files = packed!.files.map((file) => file.path);
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the compiled runtime and operator with their types, the assets they read, the CRD and the licence; no test code', () => {
    for (const file of ['dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/cli.js', 'dist/operator/main.js', 'runtime/proto/gwc.proto',
      'runtime/web/chat/index.html', 'runtime/web/console/index.html', 'runtime/http-api/openapi.json', 'crds/gatewaycluster.dev_gatewayclusters.yaml', 'LICENSE', 'README.md', 'package.json']) {
      assert.ok(files.includes(file), `${file} is in the package`);
    }
    const stray = files.filter((file) => file.startsWith('test/') || file.startsWith('dist/test/') || (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.endsWith('.map'));
    assert.deepEqual(stray, []);
  });

  it('installs into a project: gwc runs, the module loads, and TypeScript checks code against its types', () => {
    const project = path.join(work, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // From npm's cache where it can: `npm ci` of this repository has just fetched the same dependencies.
    npm(project, 'install', '--prefer-offline', '--no-audit', '--no-fund', archive);

    assert.match(execFileSync(path.join(project, 'node_modules/.bin/gwc'), ['gateway', '--help'], { encoding: 'utf8' }), /^Usage: gwc gateway/);
    const loaded = execFileSync(process.execPath, ['--input-type=module', '-e',
      "import { GatewayClient, RefuseConnection, encodeClientId } from 'gateway-cluster'; console.log(typeof GatewayClient.connect, new RefuseConnection(401, 'no').status, encodeClientId({ host: '127.0.0.1', port: 2900, connection: 1 }))"],
    { cwd: project, encoding: 'utf8' });
    assert.equal(loaded.trim(), 'function 401 7f0000010b5400000001');

    writeFileSync(path.join(project, 'handler.ts'), [
      "import { RefuseConnection, type Handler } from 'gateway-cluster';",
      'export const handler: Handler = {',
      '  async onMessage(clientId, message, ctx) {',
      "    await ctx.gateway.sendToUid('user-1', `${clientId}: ${String(message)}`);",
      '  },',
      "  async onWebSocketConnect() { throw new RefuseConnection(401, 'no token'); },",
      '};',
    ].join('\n'));
    writeFileSync(path.join(project, 'wrong.ts'), "import { GatewayClient } from 'gateway-cluster';\nexport const n: number = GatewayClient.connect;\n");
    const tsc = (file: string) => {
      try {
        execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
          '--target', 'es2023', '--types', 'node', '--typeRoots', path.join(repoRoot, 'node_modules/@types'), '--skipLibCheck', file], { cwd: project, encoding: 'utf8' });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout);
      }
    };
    assert.equal(tsc('handler.ts'), '', 'a handler written against the package\'s types compiles');
    assert.match(tsc('wrong.ts'), /wrong\.ts.*error TS2322/, 'and a wrong use of them does not');
  });
});
