import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { materializeVolumes, mountMappings, rewritePath, VolumeError, type VolumeSource } from './volumes.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kubelet-volumes-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const source: VolumeSource = {
  async getConfigMap(_namespace, name) {
    return name === 'cfg' ? { data: { 'app.json': '{"a":1}', greeting: 'hello' }, binaryData: { 'blob.bin': Buffer.from([1, 2, 3]).toString('base64') } } : undefined;
  },
  async getSecret(_namespace, name) {
    return name === 'creds' ? { data: { password: Buffer.from('s3cret').toString('base64') } } : undefined;
  },
  async requestToken(namespace, serviceAccount, request) {
    return `token-for-${namespace}/${serviceAccount}/${request.podName}`;
  },
};
const info = { podIP: '127.1.0.1', hostIP: '127.1.0.0', nodeName: 'n', nodeAllocatable: {} };

function pod(volumes: NonNullable<V1Pod['spec']>['volumes']): V1Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { b: '2', a: '1' } }, spec: { containers: [], volumes } };
}

describe('volumes', () => {
  it('materialises ConfigMap, Secret, downwardAPI, projected and emptyDir volumes with items and modes', async () => {
    const dir = path.join(tmp, 'pod1');
    const { dirs, warnings } = await materializeVolumes(pod([
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'some', configMap: { name: 'cfg', items: [{ key: 'greeting', path: 'sub/hello.txt', mode: 0o600 }], defaultMode: 0o440 } },
      { name: 'secret', secret: { secretName: 'creds', defaultMode: 0o400 } },
      { name: 'maybe', secret: { secretName: 'absent', optional: true } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
      { name: 'scratch', emptyDir: {} },
      { name: 'host', hostPath: { path: '/etc' } },
    ]), dir, source, info);
    const read = (volume: string, file: string) => readFileSync(path.join(dirs.get(volume)!, file), 'utf8');
    assert.equal(read('cfg', 'app.json'), '{"a":1}');
    assert.deepEqual([...readFileSync(path.join(dirs.get('cfg')!, 'blob.bin'))], [1, 2, 3]);
    assert.equal(statSync(path.join(dirs.get('cfg')!, 'greeting')).mode & 0o777, 0o644);
    assert.equal(read('some', 'sub/hello.txt'), 'hello');
    assert.equal(statSync(path.join(dirs.get('some')!, 'sub/hello.txt')).mode & 0o777, 0o600);
    assert.equal(existsSync(path.join(dirs.get('some')!, 'app.json')), false);
    assert.equal(read('secret', 'password'), 's3cret');
    assert.equal(statSync(path.join(dirs.get('secret')!, 'password')).mode & 0o777, 0o400);
    assert.equal(read('info', 'labels'), 'a="1"\nb="2"');
    assert.equal(read('info', 'name'), 'p');
    assert.equal(read('kube-api-access-x', 'token'), 'token-for-ns/default/p');
    assert.equal(dirs.get('host'), '/etc');
    assert.ok(statSync(dirs.get('scratch')!).isDirectory());
    // The root CA ConfigMap is not there: the automatic volume is set up as far as it can be, with a warning.
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /kube-root-ca\.crt/);
  });

  it('a missing required ConfigMap or an unsupported volume type is a VolumeError', async () => {
    await assert.rejects(materializeVolumes(pod([{ name: 'v', configMap: { name: 'nope' } }]), path.join(tmp, 'pod2'), source, info),
      (error: Error) => error instanceof VolumeError && /MountVolume.SetUp failed for volume "v": configmap "nope" not found/.test(error.message));
    await assert.rejects(materializeVolumes(pod([{ name: 'v', configMap: { name: 'cfg', items: [{ key: 'zz', path: 'x' }] } }]), path.join(tmp, 'pod3'), source, info), /no key "zz"/);
    await assert.rejects(materializeVolumes(pod([{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }]), path.join(tmp, 'pod4'), source, info), /persistentVolumeClaim is not supported/);
    await assert.rejects(materializeVolumes(pod([{ name: 'v', configMap: { name: 'cfg', items: [{ key: 'greeting', path: '../escape' }] } }]), path.join(tmp, 'pod5'), source, info), /leaves the volume/);
  });

  it('rewrites paths under a mountPath (longest first), also after = in flags', () => {
    const mappings = mountMappings(
      { name: 'c', volumeMounts: [{ name: 'cfg', mountPath: '/etc/app/' }, { name: 'secret', mountPath: '/etc/app/secret' }, { name: 'one', mountPath: '/etc/one.json', subPath: 'app.json' }] },
      new Map([['cfg', '/tmp/v/cfg'], ['secret', '/tmp/v/secret'], ['one', '/tmp/v/cfg']]),
    );
    assert.equal(rewritePath('/etc/app', mappings), '/tmp/v/cfg');
    assert.equal(rewritePath('/etc/app/x.json', mappings), '/tmp/v/cfg/x.json');
    assert.equal(rewritePath('/etc/app/secret/password', mappings), '/tmp/v/secret/password');
    assert.equal(rewritePath('--config=/etc/app/x.json', mappings), '--config=/tmp/v/cfg/x.json');
    assert.equal(rewritePath('/etc/one.json', mappings), '/tmp/v/cfg/app.json');
    assert.equal(rewritePath('/etc/apple', mappings), '/etc/apple');
    assert.equal(rewritePath('see /etc/app/x', mappings), 'see /etc/app/x');
    assert.throws(() => mountMappings({ name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, new Map()), /names no volume/);
  });
});
