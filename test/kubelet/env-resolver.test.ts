import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { ContainerConfigError, expandCommand, resolveEnv, serviceLinkEnv, type ConfigSource } from './env-resolver.js';
import { parseQuantity, type PodRuntimeInfo } from './downward-api.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function source(configMaps: Record<string, V1ConfigMap['data']>, secrets: Record<string, Record<string, string>>): ConfigSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async getConfigMap(namespace, name) {
      reads.push(`cm ${namespace}/${name}`);
      return configMaps[name] ? { data: configMaps[name] } : undefined;
    },
    async getSecret(namespace, name) {
      reads.push(`secret ${namespace}/${name}`);
      const data = secrets[name];
      return data ? ({ data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) } as V1Secret) : undefined;
    },
  };
}

const info: PodRuntimeInfo = { podIP: '127.101.0.7', hostIP: '127.101.0.0', nodeName: 'node-a', nodeAllocatable: { cpu: '2', memory: '4Gi' } };

function pod(container: V1Container, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name: 'web-1', namespace: 'ns1', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'hi' } },
    spec: { serviceAccountName: 'sa1', containers: [container], ...extra },
  };
}

describe('env resolution', () => {
  it('resolves values with $(VAR) expansion, the downward API, ConfigMap and Secret keys, in order', async () => {
    const container: V1Container = {
      name: 'c',
      resources: { limits: { memory: '256Mi' } },
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: 'metadata.annotations["note"]' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPUS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'ADDR', value: '$(POD_IP):$(PORT)' },
        { name: 'PORT', value: '8080' },
        { name: 'ADDR2', value: '$(POD_IP):$(PORT) $$(POD_IP) $(CFG_greeting) $(token)' },
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'MAYBE', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        { name: 'MAYBE_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'absent', optional: true } } },
      ],
    };
    const env = await resolveEnv({ pod: pod(container), container, info, source: source({ cfg: { greeting: 'hello', color: 'blue' } }, { creds: { password: 's3cret', token: 'tok' } }) });
    assert.deepEqual(env, {
      CFG_greeting: 'hello',
      CFG_color: 'blue',
      password: 's3cret',
      token: 'tok',
      POD_IP: '127.101.0.7',
      POD_IPS: '127.101.0.7',
      POD_NAME: 'web-1',
      NS: 'ns1',
      UID: 'uid-1',
      NODE: 'node-a',
      SA: 'sa1',
      APP: 'web',
      NOTE: 'hi',
      MEM_MI: '256',
      CPUS: '2',
      ADDR: '127.101.0.7:$(PORT)',
      PORT: '8080',
      ADDR2: '127.101.0.7:8080 $(POD_IP) hello tok',
      COLOR: 'blue',
      PASSWORD: 's3cret',
    });
    assert.deepEqual(expandCommand(['serve', '--addr=$(ADDR2)', '$(NOPE)', '$$(PORT)'], env), ['serve', '--addr=127.101.0.7:8080 $(POD_IP) hello tok', '$(NOPE)', '$(PORT)']);
  });

  it('a missing required ConfigMap, Secret or key is a ContainerConfigError naming it', async () => {
    const src = source({ cfg: { a: '1' } }, { creds: { b: '2' } });
    const attempt = (env: V1Container['env'], envFrom?: V1Container['envFrom']) => {
      const container: V1Container = { name: 'c', env, ...(envFrom ? { envFrom } : {}) };
      return resolveEnv({ pod: pod(container), container, info, source: src });
    };
    await assert.rejects(attempt([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }]), (error: Error) => error instanceof ContainerConfigError && error.message === 'secret "nope" not found');
    await assert.rejects(attempt([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }]), /configmap "nope" not found/);
    await assert.rejects(attempt([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'zz' } } }]), /couldn't find key zz in ConfigMap ns1\/cfg/);
    await assert.rejects(attempt([{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'zz' } } }]), /couldn't find key zz in Secret ns1\/creds/);
    await assert.rejects(attempt([], [{ configMapRef: { name: 'nope' } }]), /configmap "nope" not found/);
    assert.deepEqual(await attempt([], [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }]), {});
    await assert.rejects(attempt([{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.phase' } } }]), /unsupported fieldPath/);
  });

  it('adds service link variables unless enableServiceLinks is false, the master service always, without overriding', async () => {
    const services = [{ metadata: { name: 'chat-register' }, spec: { clusterIP: '10.0.0.12', ports: [{ name: 'grpc-x', port: 1236 }, { port: 9000, protocol: 'UDP' }] } }];
    const master = [{ metadata: { name: 'kubernetes' }, spec: { clusterIP: '127.0.0.1', ports: [{ name: 'https', port: 6443 }] } }];
    const container: V1Container = { name: 'c', env: [{ name: 'CHAT_REGISTER_SERVICE_PORT', value: 'mine' }, { name: 'LINK', value: '$(CHAT_REGISTER_SERVICE_HOST)' }] };
    const env = await resolveEnv({ pod: pod(container), container, info, source: source({}, {}), services, masterServices: master });
    assert.equal(env.CHAT_REGISTER_SERVICE_HOST, '10.0.0.12');
    assert.equal(env.CHAT_REGISTER_SERVICE_PORT, 'mine');
    assert.equal(env.CHAT_REGISTER_SERVICE_PORT_GRPC_X, '1236');
    assert.equal(env.CHAT_REGISTER_PORT, 'tcp://10.0.0.12:1236');
    assert.equal(env.CHAT_REGISTER_PORT_9000_UDP_PROTO, 'udp');
    assert.equal(env.CHAT_REGISTER_PORT_1236_TCP_ADDR, '10.0.0.12');
    assert.equal(env.LINK, '10.0.0.12');
    assert.equal(env.KUBERNETES_SERVICE_HOST, '127.0.0.1');
    assert.equal(env.KUBERNETES_SERVICE_PORT, '6443');

    const unlinked = await resolveEnv({ pod: pod(container, { enableServiceLinks: false }), container, info, source: source({}, {}), services, masterServices: master });
    assert.equal(unlinked.CHAT_REGISTER_SERVICE_HOST, undefined);
    assert.equal(unlinked.KUBERNETES_SERVICE_HOST, '127.0.0.1');
    assert.equal(serviceLinkEnv([{ metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } }]).size, 0);
  });

  it('parses quantities', () => {
    assert.equal(parseQuantity('500m'), 0.5);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    assert.equal(parseQuantity('2k'), 2000);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.throws(() => parseQuantity('lots'), /invalid quantity/);
  });
});
