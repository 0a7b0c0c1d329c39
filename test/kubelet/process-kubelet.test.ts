/**
 * The process kubelet against a real control plane (etcd, kube-apiserver, kube-controller-manager): Deployments and
 * StatefulSets of a tiny HTTP server run as local processes on their own loopback IPs, find each other by Service
 * name, restart, terminate gracefully, and get their configuration as in a cluster.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Container, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.js';
import { waitFor } from '../harness/wait.js';
import { apiStatus } from './kube-api.js';
import { combineImageMaps, ProcessKubelet, projectImageMap, staticImageMap } from './process-kubelet.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const tinyServer = fileURLToPath(new URL('./fixtures/tiny-server.js', import.meta.url));
const images = combineImageMaps(staticImageMap({ 'tiny-server:1': { entrypoint: [process.execPath, tinyServer] } }), projectImageMap(repoRoot));
const READY_MS = 60_000;
const TEST_TIMEOUT = 240_000;

let controlPlane: ControlPlane;
let kubeConfig: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let discovery: DiscoveryV1Api;

before(async () => {
  controlPlane = await startControlPlane({ log: (line) => process.env.GWC_TEST_VERBOSE && console.error(`[control-plane] ${line}`) });
  kubeConfig = controlPlane.kubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  apps = kubeConfig.makeApiClient(AppsV1Api);
  discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
}, { timeout: 20 * 60_000 });

after(async () => {
  await controlPlane?.stop();
});

/** One test's world: its namespace, its kubelet, a folder where the tiny servers record events. */
interface World {
  ns: string;
  kubelet: ProcessKubelet;
  recordDir: string;
  nodeName: string;
}

async function withKubelet(name: string, ipBase: string, body: (world: World) => Promise<void>): Promise<void> {
  const ns = `kubelet-${name}`;
  const nodeName = `process-node-${name}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  // Pods are refused until the ServiceAccount controller has made the namespace's default account.
  await waitFor(`the default ServiceAccount of ${ns}`, () => core.readNamespacedServiceAccount({ namespace: ns, name: 'default' }), 30_000, 200);
  const workDir = mkdtempSync(path.join(os.tmpdir(), `process-kubelet-${name}-`));
  const recordDir = path.join(workDir, 'records');
  mkdirSync(recordDir);
  const logs: string[] = [];
  const kubelet = new ProcessKubelet({
    kubeConfig, nodeName, namespaces: [ns], images, ipBase, workDir,
    log: (line) => {
      logs.push(line);
      if (process.env.GWC_TEST_VERBOSE) console.error(line);
    },
  });
  await kubelet.start();
  let failed = false;
  try {
    await body({ ns, kubelet, recordDir, nodeName });
  } catch (error) {
    failed = true;
    console.error(`----- ${name} failed; kubelet log:\n${logs.slice(-120).join('\n')}`);
    try {
      const pods = (await core.listNamespacedPod({ namespace: ns })).items;
      for (const pod of pods) {
        console.error(`----- pod ${pod.metadata?.name} ${pod.metadata?.uid} on ${pod.spec?.nodeName}: ${JSON.stringify(pod.status)}`);
        for (const container of pod.spec?.containers ?? []) {
          console.error(`----- log of ${pod.metadata?.name}/${container.name}:\n${kubelet.tailLog(ns, pod.metadata!.name!, container.name, 30)}`);
        }
      }
      const slices = (await discovery.listNamespacedEndpointSlice({ namespace: ns })).items;
      for (const slice of slices) console.error(`----- EndpointSlice ${slice.metadata?.name}: ${JSON.stringify(slice.endpoints)}`);
      console.error(`----- hosts file:\n${readFileSync(kubelet.hostsFile, 'utf8')}`);
    } catch (diagnosticError) {
      console.error(`(diagnostics failed: ${String(diagnosticError)})`);
    }
    throw error;
  } finally {
    await kubelet.stop();
    if (failed) console.error(`----- work folder kept: ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

function tinyContainer(world: World, extra: Partial<V1Container> = {}): V1Container {
  return {
    name: 'server',
    image: 'tiny-server:1',
    ports: [{ name: 'http', containerPort: 8080 }],
    env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'RECORD_DIR', value: world.recordDir },
      ...(extra.env ?? []),
    ],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
    lifecycle: { preStop: { httpGet: { path: '/prestop', port: 8080 } } },
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'env')),
  };
}

function podSpec(world: World, extra: Partial<V1PodSpec> = {}, container: Partial<V1Container> = {}): V1PodSpec {
  return { terminationGracePeriodSeconds: 10, containers: [tinyContainer(world, container)], ...extra };
}

async function createDeployment(world: World, name: string, replicas: number): Promise<void> {
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: world.ns,
    body: { metadata: { name }, spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(world) } } },
  });
  await core.createNamespacedService({ namespace: world.ns, body: { metadata: { name }, spec: { selector: labels, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } } });
}

async function createStatefulSet(world: World, name: string, replicas: number): Promise<void> {
  const labels = { app: name };
  await core.createNamespacedService({
    namespace: world.ns,
    body: { metadata: { name }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } },
  });
  await apps.createNamespacedStatefulSet({
    namespace: world.ns,
    body: { metadata: { name }, spec: { replicas, serviceName: name, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec(world) } } },
  });
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !!pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Waits until exactly `count` live pods match the selector and all are Running and Ready. */
async function readyPods(world: World, labelSelector: string, count: number, timeoutMs = READY_MS): Promise<V1Pod[]> {
  return waitFor(`${count} ready pods with ${labelSelector}`, async () => {
    const pods = (await core.listNamespacedPod({ namespace: world.ns, labelSelector })).items.filter((pod) => !pod.metadata?.deletionTimestamp);
    return pods.length === count && pods.every(isReady) ? pods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!)) : undefined;
  }, timeoutMs, 200);
}

async function readPod(world: World, name: string): Promise<V1Pod | undefined> {
  try {
    return await core.readNamespacedPod({ namespace: world.ns, name });
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}

function pidOf(pod: V1Pod, container = 'server'): number {
  const id = pod.status?.containerStatuses?.find((s) => s.name === container)?.containerID ?? '';
  const match = /^process:\/\/(\d+)$/.exec(id);
  assert.ok(match, `containerID of ${pod.metadata?.name} is process://<pid>: ${id}`);
  return Number(match[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text
  }
  return { status: response.status, body: body as T };
}

/** Asks the tiny server at `ip` to fetch `http://<host>:8080/` by name; returns the pod that answered. */
async function peer(ip: string, host: string): Promise<string> {
  const { status, body } = await getJson<{ status: number; body: string; error?: string }>(`http://${ip}:8080/peer?host=${encodeURIComponent(host)}`);
  if (status !== 200) throw new Error(`peer ${host} from ${ip}: ${JSON.stringify(body)}`);
  return (JSON.parse(body.body) as { pod: string }).pod;
}

function events(world: World, pod: string): string[] {
  const file = path.join(world.recordDir, `${pod}.events`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split(' ')[0]!) : [];
}

describe('the process kubelet', () => {
  it('runs a Deployment and a StatefulSet as processes on distinct loopback IPs that find each other by Service name', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('apps', '127.101', async (world) => {
      const node = await core.readNode({ name: world.nodeName });
      assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.deepEqual(node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, '127.101.0.0');

      await createDeployment(world, 'web', 2);
      await createStatefulSet(world, 'db', 2);
      const web = await readyPods(world, 'app=web', 2);
      const db = await readyPods(world, 'app=db', 2);
      assert.deepEqual(db.map((pod) => pod.metadata!.name), ['db-0', 'db-1']);
      const all = [...web, ...db];
      const ips = all.map((pod) => pod.status!.podIP!);
      assert.equal(new Set(ips).size, 4, `distinct IPs: ${ips.join(' ')}`);
      for (const pod of all) {
        assert.match(pod.status!.podIP!, /^127\.101\.\d+\.\d+$/);
        assert.deepEqual(pod.status!.podIPs?.map((entry) => entry.ip), [pod.status!.podIP]);
        assert.equal(pod.status!.hostIP, '127.101.0.0');
        assert.equal(pod.spec!.nodeName, world.nodeName);
        assert.ok(pod.status!.startTime);
        const status = pod.status!.containerStatuses![0]!;
        assert.equal(status.ready, true);
        assert.equal(status.started, true);
        assert.equal(status.restartCount, 0);
        assert.ok(status.state?.running?.startedAt);
        assert.ok(alive(pidOf(pod)));
        for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) {
          assert.equal(pod.status!.conditions!.find((c) => c.type === type)?.status, 'True', type);
        }
        const answer = await getJson<{ pod: string; ip: string }>(`http://${pod.status!.podIP}:8080/`);
        assert.deepEqual(answer.body, { pod: pod.metadata!.name, ip: pod.status!.podIP, port: 8080 });
      }

      const webIp = web[0]!.status!.podIP!;
      const dbIp = db[0]!.status!.podIP!;
      const webNames = web.map((pod) => pod.metadata!.name!);
      // EndpointSlices follow readiness a moment later: wait for the names to resolve, then check each form.
      await waitFor('db-0.db to resolve from a web pod', () => peer(webIp, 'db-0.db').then((pod) => pod === 'db-0'), 30_000, 200);
      await waitFor('web to resolve from db-0', () => peer(dbIp, 'web').then((pod) => webNames.includes(pod)), 30_000, 200);
      assert.equal(await peer(webIp, 'db-1.db'), 'db-1');
      assert.equal(await peer(webIp, `db-1.db.${world.ns}.svc.cluster.local`), 'db-1');
      assert.equal(await peer(webIp, `db-0.db.${world.ns}.svc`), 'db-0');
      assert.ok(['db-0', 'db-1'].includes(await peer(webIp, 'db')));
      assert.ok(webNames.includes(await peer(dbIp, `web.${world.ns}.svc`)));
      assert.ok(webNames.includes(await peer(dbIp, `web.${world.ns}`)));
      // Both endpoints of the Service answer (names rotate over the ready endpoints).
      const answered = new Set<string>();
      await waitFor('both web pods to answer through the Service name', async () => {
        answered.add(await peer(dbIp, 'web'));
        return answered.size === 2;
      }, 20_000, 50);
      const missing = await getJson<{ code: string }>(`http://${webIp}:8080/peer?host=nope.${world.ns}.svc`);
      assert.equal(missing.status, 502);
      assert.equal(missing.body.code, 'ENOTFOUND');
    });
  });

  it('restarts a killed process: restartCount 1, lastState terminated by SIGKILL, Ready again on the same IP', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('restart', '127.102', async (world) => {
      await createDeployment(world, 'web', 1);
      const [pod] = await readyPods(world, 'app=web', 1);
      const name = pod!.metadata!.name!;
      const pid = pidOf(pod!);
      process.kill(pid, 'SIGKILL');
      const restarted = await waitFor('the container to restart and be ready', async () => {
        const current = await readPod(world, name);
        const status = current?.status?.containerStatuses?.[0];
        return current && status?.restartCount === 1 && status.ready && isReady(current) ? current : undefined;
      }, READY_MS, 200);
      const status = restarted.status!.containerStatuses![0]!;
      assert.equal(status.lastState?.terminated?.exitCode, 137);
      assert.equal(status.lastState?.terminated?.reason, 'Error');
      assert.equal(status.lastState?.terminated?.containerID, `process://${pid}`);
      const newPid = pidOf(restarted);
      assert.notEqual(newPid, pid);
      assert.ok(alive(newPid));
      assert.equal(restarted.status!.podIP, pod!.status!.podIP);
      const answer = await getJson<{ pod: string }>(`http://${restarted.status!.podIP}:8080/`);
      assert.equal(answer.body.pod, name);
      assert.match(world.kubelet.tailLog(world.ns, name, 'server'), /exited with 137 \(SIGKILL\)[\s\S]*listening on/);
    });
  });

  it('deletes a pod gracefully: preStop, SIGTERM, process gone, object gone, and the controllers replace it', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('delete', '127.103', async (world) => {
      await createDeployment(world, 'web', 2);
      await createStatefulSet(world, 'db', 1);
      const web = await readyPods(world, 'app=web', 2);
      const [db0] = await readyPods(world, 'app=db', 1);
      const victim = web[0]!;
      const victimName = victim.metadata!.name!;
      const victims = [
        { name: victimName, uid: victim.metadata!.uid!, pid: pidOf(victim) },
        { name: 'db-0', uid: db0!.metadata!.uid!, pid: pidOf(db0!) },
      ];
      await core.deleteNamespacedPod({ namespace: world.ns, name: victimName });
      await core.deleteNamespacedPod({ namespace: world.ns, name: 'db-0' });

      for (const { name, uid, pid } of victims) {
        await waitFor(`the pod object ${name} (${uid}) to be gone`, async () => (await readPod(world, name))?.metadata?.uid !== uid, 30_000, 200);
        assert.equal(alive(pid), false, `process ${pid} of ${name} is gone`);
        const seen = events(world, name);
        const prestop = seen.indexOf('prestop');
        assert.ok(prestop >= 0, `${name} got its preStop hook: ${seen.join(',')}`);
        assert.ok(seen.indexOf('sigterm', prestop) > prestop, `${name} got SIGTERM after preStop: ${seen.join(',')}`);
      }
      // A process that ignores SIGTERM is killed when the grace period ends, not before.
      await core.createNamespacedPod({
        namespace: world.ns,
        body: { metadata: { name: 'stubborn', labels: { app: 'stubborn' } }, spec: podSpec(world, { terminationGracePeriodSeconds: 3 }, { env: [{ name: 'IGNORE_SIGTERM', value: '1' }] }) },
      });
      const [stubborn] = await readyPods(world, 'app=stubborn', 1);
      const deletedAt = Date.now();
      await core.deleteNamespacedPod({ namespace: world.ns, name: 'stubborn' });
      await waitFor('stubborn to be gone', async () => !(await readPod(world, 'stubborn')), 30_000, 100);
      const took = Date.now() - deletedAt;
      assert.ok(took >= 1900, `SIGKILL came after the grace period (${took} ms)`);
      assert.equal(alive(pidOf(stubborn!)), false);
      assert.deepEqual(events(world, 'stubborn').filter((event) => event !== 'listening'), ['prestop', 'sigterm']);
      assert.match(world.kubelet.tailLog(world.ns, 'stubborn', 'server'), /exited with 137 \(SIGKILL\)/);

      const replaced = await readyPods(world, 'app=web', 2);
      assert.ok(!replaced.some((pod) => pod.metadata!.name === victimName), 'the ReplicaSet made a new pod');
      const [newDb0] = await readyPods(world, 'app=db', 1);
      assert.equal(newDb0!.metadata!.name, 'db-0');
      assert.notEqual(newDb0!.metadata!.uid, victims[1]!.uid, 'the StatefulSet made a new db-0');
      assert.equal((await getJson<{ pod: string }>(`http://${newDb0!.status!.podIP}:8080/`)).body.pod, 'db-0');
    });
  });

  it('deleting a Deployment garbage-collects its ReplicaSet and pods, and their processes stop', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('gc', '127.104', async (world) => {
      await createDeployment(world, 'web', 2);
      const pods = await readyPods(world, 'app=web', 2);
      const pids = pods.map((pod) => pidOf(pod));
      assert.equal((await apps.listNamespacedReplicaSet({ namespace: world.ns })).items.length, 1);
      await apps.deleteNamespacedDeployment({ namespace: world.ns, name: 'web' });
      await waitFor('the ReplicaSet and pods to be garbage-collected', async () => {
        const [sets, left] = await Promise.all([apps.listNamespacedReplicaSet({ namespace: world.ns }), core.listNamespacedPod({ namespace: world.ns })]);
        return sets.items.length === 0 && left.items.length === 0;
      }, READY_MS, 200);
      await waitFor('the processes to stop', () => pids.every((pid) => !alive(pid)), 10_000);
      assert.deepEqual(world.kubelet.processes(), []);
      for (const pod of pods) assert.ok(events(world, pod.metadata!.name!).includes('sigterm'));
    });
  });

  it('gives the process env from fieldRef, secretKeyRef, configMapKeyRef and envFrom, and ConfigMap/Secret volumes', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('config', '127.105', async (world) => {
      await core.createNamespacedConfigMap({ namespace: world.ns, body: { metadata: { name: 'settings' }, data: { greeting: 'hello', 'app.json': '{"x":1}' } } });
      await core.createNamespacedSecret({ namespace: world.ns, body: { metadata: { name: 'creds' }, stringData: { password: 's3cret' } } });
      await core.createNamespacedPod({
        namespace: world.ns,
        body: {
          metadata: { name: 'configured', labels: { app: 'cfg', tier: 'front' }, annotations: { note: 'from the annotation' } },
          spec: podSpec(world, {
            serviceAccountName: 'default',
            volumes: [
              { name: 'settings', configMap: { name: 'settings', items: [{ key: 'app.json', path: 'conf/app.json' }] } },
              { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
              { name: 'scratch', emptyDir: {} },
            ],
          }, {
            volumeMounts: [
              { name: 'settings', mountPath: '/etc/tiny' },
              { name: 'creds', mountPath: '/var/run/creds', readOnly: true },
              { name: 'scratch', mountPath: '/scratch' },
            ],
            envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
            env: [
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
              { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
              { name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
              { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
              { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'greeting' } } },
              { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
              { name: 'ADDRESS', value: '$(POD_IP):8080 $$(POD_IP)' },
              { name: 'APP_CONFIG', value: '/etc/tiny/conf/app.json' },
              { name: 'SECRET_FILE', value: '/var/run/creds/password' },
              { name: 'SCRATCH', value: '/scratch' },
            ],
            args: ['--config=/etc/tiny/conf/app.json', '$(POD_NAME)', '$$(POD_NAME)'],
          }),
        },
      });
      const [pod] = await readyPods(world, 'app=cfg', 1);
      const ip = pod!.status!.podIP!;
      const env = (await getJson<Record<string, string>>(`http://${ip}:8080/env`)).body;
      assert.equal(env.POD_IP, ip);
      assert.equal(env.POD_NAME, 'configured');
      assert.equal(env.HOSTNAME, 'configured');
      assert.equal(env.NODE_NAME, world.nodeName);
      assert.equal(env.POD_NAMESPACE, world.ns);
      assert.equal(env.POD_UID, pod!.metadata!.uid);
      assert.equal(env.SERVICE_ACCOUNT, 'default');
      assert.equal(env.TIER, 'front');
      assert.equal(env.NOTE, 'from the annotation');
      assert.equal(env.PASSWORD, 's3cret');
      assert.equal(env.GREETING, 'hello');
      assert.equal(env.CFG_greeting, 'hello');
      assert.equal(env.OPTIONAL, undefined);
      assert.equal(env.ADDRESS, `${ip}:8080 $(POD_IP)`);
      assert.equal(env.KUBERNETES_SERVICE_HOST, new URL(controlPlane.server).hostname);
      assert.equal(env.KUBERNETES_SERVICE_PORT, new URL(controlPlane.server).port);
      // Mounted paths are rewritten to the pod's volume folders.
      assert.notEqual(env.APP_CONFIG, '/etc/tiny/conf/app.json');
      assert.deepEqual((await getJson(`http://${ip}:8080/file?env=APP_CONFIG`)).body, { x: 1 });
      assert.equal((await getJson(`http://${ip}:8080/file?env=SECRET_FILE`)).body, 's3cret' as unknown);
      assert.ok(existsSync(env.SCRATCH!));
      const argv = (await getJson<string[]>(`http://${ip}:8080/argv`)).body;
      assert.equal(argv[0], `--config=${env.APP_CONFIG}`);
      assert.deepEqual(argv.slice(1), ['configured', '$(POD_NAME)']);
    });
  });

  it('a pod it cannot run gets a status saying why, and runs once the cause is fixed; the kubelet goes on', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('bad', '127.106', async (world) => {
      const create = (name: string, spec: V1PodSpec) => core.createNamespacedPod({ namespace: world.ns, body: { metadata: { name, labels: { app: name } }, spec } });
      await create('unknown-image', podSpec(world, {}, { image: 'registry.example/nope:1' }));
      await create('needs-secret', podSpec(world, {}, { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'later', key: 'token' } } }] }));
      await create('needs-claim', podSpec(world, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'none' } }] }));
      const waiting = (name: string, reason: string, message: RegExp) => waitFor(`${name} to wait with ${reason}`, async () => {
        const pod = await readPod(world, name);
        const state = pod?.status?.containerStatuses?.[0]?.state?.waiting;
        return state?.reason === reason && message.test(state.message ?? '') && pod?.status?.phase === 'Pending' ? pod : undefined;
      }, READY_MS, 200);
      const unknown = await waiting('unknown-image', 'ErrImagePull', /registry\.example\/nope:1/);
      assert.equal(unknown.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
      assert.match(unknown.status?.podIP ?? '', /^127\.106\./);
      await waiting('needs-secret', 'CreateContainerConfigError', /secret "later" not found/);
      await waiting('needs-claim', 'ContainerCreating', /volume type persistentVolumeClaim is not supported/);

      await core.createNamespacedSecret({ namespace: world.ns, body: { metadata: { name: 'later' }, stringData: { token: 't0ken' } } });
      const [fixed] = await readyPods(world, 'app=needs-secret', 1);
      const env = (await getJson<Record<string, string>>(`http://${fixed!.status!.podIP}:8080/env`)).body;
      assert.equal(env.TOKEN, 't0ken');
      assert.equal(fixed!.status!.containerStatuses![0]!.restartCount, 0);
    });
  });

  it('follows readiness and liveness probes: not ready while /ready fails, restarted when /healthz fails', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('probes', '127.107', async (world) => {
      await core.createNamespacedPod({
        namespace: world.ns,
        body: {
          metadata: { name: 'probed', labels: { app: 'probed' } },
          spec: podSpec(world, {}, { livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 2 } }),
        },
      });
      const [pod] = await readyPods(world, 'app=probed', 1);
      const ip = pod!.status!.podIP!;
      await getJson(`http://${ip}:8080/sick?probe=ready`);
      await waitFor('the pod to become not ready', async () => {
        const current = await readPod(world, 'probed');
        const status = current?.status?.containerStatuses?.[0];
        return status?.ready === false && status.state?.running && status.restartCount === 0 && current?.status?.phase === 'Running';
      }, 20_000, 200);
      await getJson(`http://${ip}:8080/sick?probe=healthz`);
      const restarted = await waitFor('a liveness restart, ready again', async () => {
        const current = await readPod(world, 'probed');
        return current?.status?.containerStatuses?.[0]?.restartCount === 1 && isReady(current) ? current : undefined;
      }, READY_MS, 200);
      assert.match(restarted.status!.containerStatuses![0]!.lastState?.terminated?.message ?? '', /Liveness probe failed/);
    });
  });

  it('applies restartPolicy: Never and OnFailure pods end Failed or Succeeded; init containers run first', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('policy', '127.108', async (world) => {
      const create = (name: string, restartPolicy: string, args: string[], extra: Partial<V1PodSpec> = {}) => core.createNamespacedPod({
        namespace: world.ns,
        body: { metadata: { name }, spec: { restartPolicy, terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'tiny-server:1', args }], ...extra } },
      });
      await create('never-fails', 'Never', ['exit', '3']);
      await create('onfailure-succeeds', 'OnFailure', ['exit', '0'], { initContainers: [{ name: 'setup', image: 'tiny-server:1', args: ['exit', '0'] }] });
      await create('onfailure-fails', 'OnFailure', ['exit', '1']);
      await create('init-fails', 'Never', ['exit', '0'], { initContainers: [{ name: 'setup', image: 'tiny-server:1', args: ['exit', '4'] }] });
      const phase = (name: string, expected: string) => waitFor(`${name} to be ${expected}`, async () => {
        const pod = await readPod(world, name);
        return pod?.status?.phase === expected ? pod : undefined;
      }, READY_MS, 200);
      const failed = await phase('never-fails', 'Failed');
      assert.equal(failed.status!.containerStatuses![0]!.state?.terminated?.exitCode, 3);
      assert.equal(failed.status!.containerStatuses![0]!.restartCount, 0);
      const succeeded = await phase('onfailure-succeeds', 'Succeeded');
      assert.equal(succeeded.status!.initContainerStatuses![0]!.state?.terminated?.reason, 'Completed');
      assert.equal(succeeded.status!.containerStatuses![0]!.state?.terminated?.reason, 'Completed');
      const initFailed = await phase('init-fails', 'Failed');
      assert.equal(initFailed.status!.initContainerStatuses![0]!.state?.terminated?.exitCode, 4);
      assert.equal(initFailed.status!.containerStatuses![0]!.state?.waiting?.reason, 'PodInitializing');
      const crashing = await waitFor('onfailure-fails to restart with back-off', async () => {
        const pod = await readPod(world, 'onfailure-fails');
        const status = pod?.status?.containerStatuses?.[0];
        return status && status.restartCount >= 1 && status.lastState?.terminated?.exitCode === 1 ? pod : undefined;
      }, READY_MS, 200);
      assert.equal(crashing!.status!.phase, 'Running');
    });
  });

  it('runs the project image (gateway-cluster) with its CLI: a Register on its pod IP, secret file from a Secret volume', { timeout: TEST_TIMEOUT }, async () => {
    await withKubelet('project', '127.109', async (world) => {
      await core.createNamespacedSecret({ namespace: world.ns, body: { metadata: { name: 'gwc' }, stringData: { secret: 'a-test-secret-of-enough-length' } } });
      await core.createNamespacedPod({
        namespace: world.ns,
        body: {
          metadata: { name: 'register', labels: { app: 'register' } },
          spec: {
            enableServiceLinks: false,
            volumes: [{ name: 'secret', secret: { secretName: 'gwc' } }],
            containers: [{
              name: 'register',
              image: 'ghcr.io/example/gateway-cluster:0.1.0',
              args: ['register', '--host=$(POD_IP)', '--metrics-host=$(POD_IP)', '--secret-file=/etc/gwc/secret'],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              volumeMounts: [{ name: 'secret', mountPath: '/etc/gwc', readOnly: true }],
              ports: [{ name: 'register', containerPort: 1236 }, { name: 'metrics', containerPort: 9236 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 1 },
              livenessProbe: { tcpSocket: { port: 'register' }, periodSeconds: 2 },
            }],
          },
        },
      });
      const [pod] = await readyPods(world, 'app=register', 1);
      const metrics = await fetch(`http://${pod!.status!.podIP}:9236/metrics`);
      assert.equal(metrics.status, 200);
    });
  });
});
