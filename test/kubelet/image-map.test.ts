import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineImageMaps, parseImageReference, projectImageMap, staticImageMap } from './image-map.js';

describe('image maps', () => {
  it('parses image references with registry ports, tags and digests', () => {
    assert.deepEqual(parseImageReference('ghcr.io/x/gateway-cluster:0.1.0'), { name: 'ghcr.io/x/gateway-cluster', repository: 'gateway-cluster', tag: '0.1.0' });
    assert.deepEqual(parseImageReference('localhost:5000/gateway-cluster'), { name: 'localhost:5000/gateway-cluster', repository: 'gateway-cluster' });
    assert.deepEqual(parseImageReference('gateway-cluster@sha256:abc'), { name: 'gateway-cluster', repository: 'gateway-cluster', digest: 'sha256:abc' });
    assert.deepEqual(parseImageReference('r:1/a/b:2@sha256:x'), { name: 'r:1/a/b', repository: 'b', tag: '2', digest: 'sha256:x' });
  });

  it('maps the project image from any registry and tag to the compiled CLI', () => {
    const map = projectImageMap('/repo');
    for (const image of ['ghcr.io/x/gateway-cluster:0.1.0', 'localhost/gateway-cluster:dev', 'gateway-cluster', 'localhost:5000/a/b/gateway-cluster@sha256:1']) {
      assert.deepEqual(map(image)?.entrypoint, [process.execPath, '/repo/dist/runtime/cli.js'], image);
    }
    for (const image of ['ghcr.io/x/gateway-cluster-operator:1', 'gateway-cluster/other:1', 'nginx:1']) assert.equal(map(image), undefined, image);
  });

  it('static entries match exactly, or by name for any tag when the key has none; the first map wins', () => {
    const map = combineImageMaps(
      staticImageMap({ 'tiny-server:1': { entrypoint: ['a'] }, busy: { entrypoint: ['b'] } }),
      staticImageMap({ 'tiny-server:2': { entrypoint: ['c'] }, 'tiny-server:1': { entrypoint: ['never'] } }),
    );
    assert.deepEqual(map('tiny-server:1')?.entrypoint, ['a']);
    assert.deepEqual(map('tiny-server:2')?.entrypoint, ['c']);
    assert.deepEqual(map('busy:latest')?.entrypoint, ['b']);
    assert.equal(map('tiny-server:3'), undefined);
  });
});
