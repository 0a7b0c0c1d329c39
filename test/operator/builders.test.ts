import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  childNames,
  clientAddress,
  desiredChildren,
  labelsFor,
  registerAddress,
  selectorFor,
  type BuildContext,
  type GatewayClusterObject,
  type KubeObject,
} from '../../operator/builders/desired-children.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';
import { gatewayClusterSpec, type GatewayClusterSpecInput } from '../../operator/spec/gateway-cluster-spec.js';
import { buildContext } from './build-context.js';

const UID = '0b5d6a4e-1111-4222-8333-444455556666';
const ctx = buildContext({ serviceMonitorAvailable: true });

function cluster(spec: GatewayClusterSpecInput = {}, name = 'chat', namespace = 'apps'): GatewayClusterObject {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace, uid: UID, generation: 3 }, spec: gatewayClusterSpec.parse(spec) };
}

const build = (spec: GatewayClusterSpecInput = {}, context: BuildContext = ctx) => desiredChildren(cluster(spec), context);

function find(children: KubeObject[], kind: string, name: string): any {
  const found = children.find((c) => c.kind === kind && c.metadata.name === name);
  assert.ok(found, `${kind} ${name} not built (have: ${children.map((c) => `${c.kind}/${c.metadata.name}`).join(', ')})`);
  return found;
}

const container = (children: KubeObject[], kind: string, name: string): any => find(children, kind, name).spec.template.spec.containers[0];
const gatewayContainer = (children: KubeObject[]) => container(children, 'StatefulSet', 'chat-gateway');
const workerContainer = (children: KubeObject[]) => container(children, 'StatefulSet', 'chat-worker');
const registerContainer = (children: KubeObject[]) => container(children, 'Deployment', 'chat-register');

function envOf(c: any): Record<string, any> {
  return Object.fromEntries((c.env as any[]).map((e) => [e.name, e.value ?? e.valueFrom]));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('builders: the set of children', () => {
  it('builds the register, gateway and worker objects for the defaults, and no Secret', () => {
    const kinds = build().map((c) => `${c.apiVersion} ${c.kind} ${c.metadata.name}`);
    assert.deepEqual(kinds, [
      'v1 Service chat-register',
      'apps/v1 Deployment chat-register',
      'v1 Service chat-gateway-headless',
      'v1 Service chat-gateway',
      'apps/v1 StatefulSet chat-gateway',
      'v1 Service chat-worker-headless',
      'apps/v1 StatefulSet chat-worker',
      'v1 Service chat-api',
      'apps/v1 Deployment chat-api',
      'networking.k8s.io/v1 NetworkPolicy chat-internal',
    ]);
  });

  it('puts namespace, labels and the controller owner reference on every child', () => {
    const children = build({ gateway: { replicas: 3 }, worker: { replicas: 2 }, metrics: { serviceMonitor: { enabled: true } } });
    assert.equal(children.length, 13);
    for (const child of children) {
      assert.equal(child.metadata.namespace, 'apps', child.metadata.name);
      assert.deepEqual(child.metadata.ownerReferences, [
        { apiVersion: 'gatewaycluster.dev/v1alpha1', kind: 'GatewayCluster', name: 'chat', uid: UID, controller: true, blockOwnerDeletion: true },
      ]);
      assert.equal(child.metadata.labels['app.kubernetes.io/name'], 'gateway-cluster');
      assert.equal(child.metadata.labels['app.kubernetes.io/instance'], 'chat');
      assert.equal(child.metadata.labels['app.kubernetes.io/managed-by'], 'gateway-cluster-operator');
      assert.ok(!('status' in child), `${child.kind} has a status`);
    }
  });

  it('names, labels, selectors and addresses', () => {
    assert.deepEqual(childNames('chat'), {
      register: 'chat-register',
      registerService: 'chat-register',
      gateway: 'chat-gateway',
      gatewayHeadless: 'chat-gateway-headless',
      gatewayClient: 'chat-gateway',
      worker: 'chat-worker',
      workerHeadless: 'chat-worker-headless',
      api: 'chat-api',
      apiKeySecret: 'chat-api-key',
      gatewayWorkerSecret: 'chat-gatewayworker-secret',
      secret: 'chat-secret',
      pdbGateway: 'chat-gateway',
      pdbWorker: 'chat-worker',
      serviceMonitor: 'chat',
      networkPolicy: 'chat-internal',
    });
    assert.deepEqual(labelsFor('chat', 'worker'), {
      'app.kubernetes.io/name': 'gateway-cluster',
      'app.kubernetes.io/instance': 'chat',
      'app.kubernetes.io/component': 'worker',
      'app.kubernetes.io/managed-by': 'gateway-cluster-operator',
    });
    assert.equal(selectorFor('chat', 'worker'), 'app.kubernetes.io/component=worker,app.kubernetes.io/instance=chat,app.kubernetes.io/name=gateway-cluster');
    assert.equal(registerAddress(cluster({ register: { port: 4000 } })), 'chat-register.apps.svc:4000');
    assert.equal(clientAddress(cluster()), 'chat-gateway.apps.svc:7272');
    assert.equal(clientAddress(cluster({ gateway: { service: { port: 80 } } })), 'chat-gateway.apps.svc:80');
  });

  it('selects pods by name, instance and component only', () => {
    const children = build();
    const selector = { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': 'chat', 'app.kubernetes.io/component': 'gateway' };
    assert.deepEqual(find(children, 'StatefulSet', 'chat-gateway').spec.selector, { matchLabels: selector });
    assert.deepEqual(find(children, 'Service', 'chat-gateway').spec.selector, selector);
    assert.deepEqual(find(children, 'Service', 'chat-gateway-headless').spec.selector, selector);
    assert.deepEqual(find(children, 'StatefulSet', 'chat-worker').spec.selector.matchLabels['app.kubernetes.io/component'], 'worker');
    assert.deepEqual(find(children, 'Deployment', 'chat-register').spec.selector.matchLabels['app.kubernetes.io/component'], 'register');
    // Spec-dependent labels never reach a selector.
    const withPodLabels = build({ pod: { labels: { team: 'a' } } });
    assert.deepEqual(find(withPodLabels, 'StatefulSet', 'chat-gateway').spec.selector, { matchLabels: selector });
  });
});

describe('builders: workloads', () => {
  it('register: a Deployment of one pod, recreated rather than rolled', () => {
    const deployment = find(build(), 'Deployment', 'chat-register');
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: 'Recreate' });
    assert.deepEqual(registerContainer(build()).args, ['register']);
  });

  it('gateways and workers: StatefulSets with their headless Services, started in parallel', () => {
    const children = build({ gateway: { replicas: 2 }, worker: { replicas: 5 } });
    const gateway = find(children, 'StatefulSet', 'chat-gateway');
    assert.equal(gateway.spec.replicas, 2);
    assert.equal(gateway.spec.serviceName, 'chat-gateway-headless');
    assert.equal(gateway.spec.podManagementPolicy, 'Parallel');
    const worker = find(children, 'StatefulSet', 'chat-worker');
    assert.equal(worker.spec.replicas, 5);
    assert.equal(worker.spec.serviceName, 'chat-worker-headless');
    assert.equal(worker.spec.podManagementPolicy, 'Parallel');
    assert.deepEqual(gatewayContainer(children).args, ['gateway']);
    assert.deepEqual(workerContainer(children).args, ['worker']);
  });

  it('a replica change changes only the replicas', () => {
    const before = build();
    const after = build({ gateway: { replicas: 4 }, worker: { replicas: 7 } }).filter((c) => c.kind !== 'PodDisruptionBudget');
    assert.equal(after.length, before.length);
    for (let i = 0; i < before.length; i++) {
      const expected = structuredClone(before[i]) as any;
      if (expected.metadata.name === 'chat-gateway' && expected.kind === 'StatefulSet') expected.spec.replicas = 4;
      if (expected.metadata.name === 'chat-worker' && expected.kind === 'StatefulSet') expected.spec.replicas = 7;
      assert.deepEqual(after[i], expected);
    }
  });

  it('pods: one gwc container with the image, pull policy, pull secrets and grace periods', () => {
    const children = build({ image: 'registry.example/gwc:9', imagePullPolicy: 'Always', imagePullSecrets: [{ name: 'pull' }] });
    for (const [kind, name, grace] of [['Deployment', 'chat-register', 30], ['StatefulSet', 'chat-gateway', 60], ['StatefulSet', 'chat-worker', 30]] as const) {
      const pod = find(children, kind, name).spec.template;
      assert.equal(pod.spec.containers.length, 1);
      assert.equal(pod.spec.containers[0].name, 'gwc');
      assert.equal(pod.spec.containers[0].image, 'registry.example/gwc:9');
      assert.equal(pod.spec.containers[0].imagePullPolicy, 'Always');
      assert.deepEqual(pod.spec.imagePullSecrets, [{ name: 'pull' }]);
      assert.equal(pod.spec.terminationGracePeriodSeconds, grace);
    }
    assert.deepEqual(gatewayContainer(children).lifecycle, { preStop: { sleep: { seconds: 3 } } });
    assert.equal(workerContainer(children).lifecycle, undefined);
    const longDrain = find(build({ gateway: { drainSeconds: 120 } }), 'StatefulSet', 'chat-gateway').spec.template.spec;
    assert.equal(longDrain.terminationGracePeriodSeconds, 143, 'preStop 3 s + drain 120 s + 20 s to exit');
    const defaults = registerContainer(build());
    assert.equal(defaults.image, DEFAULT_OPERAND_IMAGE, 'the operator\'s image when the spec names none');
    assert.equal(registerContainer(build({}, buildContext({ defaultImage: 'example/gwc:9' }))).image, 'example/gwc:9');
    assert.equal(defaults.imagePullPolicy, 'IfNotPresent');
    assert.ok(!('imagePullSecrets' in find(build(), 'Deployment', 'chat-register').spec.template.spec));
  });

  it('pods: container ports, probes on the metrics port, resources', () => {
    const children = build({ gateway: { resources: { limits: { memory: '512Mi', cpu: 2 } } } });
    const gateway = gatewayContainer(children);
    assert.deepEqual(gateway.ports, [
      { name: 'client', containerPort: 7272, protocol: 'TCP' },
      { name: 'internal', containerPort: 2900, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9272, protocol: 'TCP' },
    ]);
    assert.deepEqual(gateway.readinessProbe, { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 5, failureThreshold: 3 });
    assert.deepEqual(gateway.livenessProbe, { httpGet: { path: '/healthz', port: 'metrics' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 6 });
    assert.deepEqual(gateway.resources, { limits: { memory: '512Mi', cpu: 2 } });
    assert.ok(!('resources' in workerContainer(children)));
    assert.deepEqual(registerContainer(children).ports, [
      { name: 'register', containerPort: 1236, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9236, protocol: 'TCP' },
    ]);
    assert.deepEqual(workerContainer(children).ports, [{ name: 'metrics', containerPort: 9300, protocol: 'TCP' }]);
  });
});

describe('builders: environment', () => {
  it('every role: POD_IP and POD_NAME first, the secret file from a read-only Secret volume, every address bound (port-forward reaches them)', () => {
    const children = build();
    for (const [kind, name] of [['Deployment', 'chat-register'], ['StatefulSet', 'chat-gateway'], ['StatefulSet', 'chat-worker']] as const) {
      const pod = find(children, kind, name).spec.template.spec;
      const c = pod.containers[0];
      assert.deepEqual(c.env.slice(0, 2), [
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ]);
      const env = envOf(c);
      assert.equal(env.GWC_NAME, '$(POD_NAME)');
      assert.equal(env.GWC_METRICS_HOST, undefined, 'the runtime default 0.0.0.0');
      assert.equal(env.GWC_HOST, undefined, 'the runtime default 0.0.0.0');
      assert.equal(env.GWC_SECRET_FILE, '/etc/gwc/secret/secret');
      for (const e of c.env) assert.ok(e.valueFrom !== undefined || typeof e.value === 'string', `${e.name} is not a string`);
      assert.deepEqual(pod.volumes[0], { name: 'secret', secret: { secretName: 'chat-secret', defaultMode: 0o400 } });
      assert.deepEqual(c.volumeMounts[0], { name: 'secret', mountPath: '/etc/gwc/secret', readOnly: true });
    }
    const other = desiredChildren(cluster(), { ...ctx, secretName: 'mine', secretKey: 'token' });
    assert.equal(envOf(workerContainer(other)).GWC_SECRET_FILE, '/etc/gwc/secret/token');
    assert.equal(find(other, 'StatefulSet', 'chat-worker').spec.template.spec.volumes[0].secret.secretName, 'mine');
  });

  it('register: its port, metrics port, and the address dialers use for it (the one it accepts being dialled at)', () => {
    const env = envOf(registerContainer(build({ register: { port: 4000 } })));
    assert.equal(env.GWC_PORT, '4000');
    assert.equal(env.GWC_METRICS_PORT, '9236');
    assert.equal(env.GWC_REGISTER_ADDRESS, 'chat-register.apps.svc:4000');
  });

  it('gateway: lanIp from the downward API, the register address and every setting as a string', () => {
    const c = gatewayContainer(build({ register: { port: 4000 }, gateway: { protocol: 'frame', clientPort: 8000, internalPort: 8001, router: 'random' } }));
    const env = envOf(c);
    assert.equal(env.GWC_LAN_IP, '$(POD_IP)');
    assert.deepEqual(env.POD_IP, { fieldRef: { fieldPath: 'status.podIP' } });
    assert.deepEqual(env.POD_IPS, { fieldRef: { fieldPath: 'status.podIPs' } });
    const lanIpAt = c.env.findIndex((e: any) => e.name === 'GWC_LAN_IP');
    assert.ok(c.env.findIndex((e: any) => e.name === 'POD_IP') < lanIpAt, 'POD_IP must be defined before GWC_LAN_IP refers to it');
    assert.equal(env.GWC_REGISTER_ADDRESS, 'chat-register.apps.svc:4000');
    assert.equal(env.GWC_PROTOCOL, 'frame');
    assert.equal(env.GWC_PORT, '8000');
    assert.equal(env.GWC_INTERNAL_PORT, '8001');
    assert.equal(env.GWC_PING_INTERVAL, '25');
    assert.equal(env.GWC_PING_NOT_RESPONSE_LIMIT, '0');
    assert.equal(env.GWC_MAX_PAYLOAD, '1048576');
    assert.equal(env.GWC_MAX_CONNECTIONS, undefined, 'unset: the runtime takes it from the open-file limit');
    assert.equal(envOf(gatewayContainer(build({ gateway: { maxConnections: 500 } }))).GWC_MAX_CONNECTIONS, '500');
    assert.equal(env.GWC_MAX_SEND_BUFFER, '1048576');
    assert.equal(env.GWC_DRAIN_SECONDS, '10');
    assert.equal(env.GWC_MAX_MESSAGES_PER_SECOND, '0');
    assert.equal(env.GWC_ALLOWED_ORIGINS, undefined);
    const limited = envOf(gatewayContainer(build({ gateway: { maxMessagesPerSecond: 50, allowedOrigins: ['https://a.example', 'https://b.example'] } })));
    assert.equal(limited.GWC_MAX_MESSAGES_PER_SECOND, '50');
    assert.equal(limited.GWC_ALLOWED_ORIGINS, 'https://a.example,https://b.example');
    assert.equal(env.GWC_ROUTER, 'random');
    assert.equal(env.GWC_METRICS_PORT, '9272');
    assert.equal(env.GWC_PING_DATA, '', 'the runtime\'s default, written: WebSocket ping frames');
  });

  it('gateway: pingData with $ escaped from Kubernetes expansion', () => {
    assert.equal(envOf(gatewayContainer(build({ gateway: { pingData: '{"type":"ping"}' } }))).GWC_PING_DATA, '{"type":"ping"}');
    assert.equal(envOf(gatewayContainer(build({ gateway: { pingData: 'p$(POD_IP)' } }))).GWC_PING_DATA, 'p$$(POD_IP)');
  });

  it('worker: the chat handler by default, the register address, the process timeout', () => {
    const c = workerContainer(build({ worker: { processTimeout: 5 } }));
    const env = envOf(c);
    assert.equal(env.GWC_HANDLER, 'chat');
    assert.equal(env.GWC_REGISTER_ADDRESS, 'chat-register.apps.svc:1236');
    assert.equal(env.GWC_PROCESS_TIMEOUT, '5');
    assert.equal(env.GWC_ABANDON_TIMEOUT, '60');
    assert.equal(env.GWC_METRICS_PORT, '9300');
    assert.equal(c.volumeMounts.length, 1);
  });

  it('gateway: serves the bundled chat page only with the chat handler over WebSocket', () => {
    assert.equal(envOf(gatewayContainer(build())).GWC_WEB_ROOT, 'chat');
    assert.equal(envOf(gatewayContainer(build({ worker: { handler: { module: 'echo' } } }))).GWC_WEB_ROOT, undefined);
    assert.equal(envOf(gatewayContainer(build({ gateway: { protocol: 'text' } }))).GWC_WEB_ROOT, undefined);
  });

  it('worker: the handler from spec.worker.handler.module', () => {
    const children = build({ worker: { handler: { module: 'echo' } } });
    assert.equal(envOf(workerContainer(children)).GWC_HANDLER, 'echo');
    assert.equal(find(children, 'StatefulSet', 'chat-worker').spec.template.spec.volumes.length, 1);
  });

  it('worker: the handler from a ConfigMap, mounted read-only', () => {
    const children = build({ worker: { handler: { configMap: { name: 'my-handler', key: 'main.mjs' } } } });
    const pod = find(children, 'StatefulSet', 'chat-worker').spec.template.spec;
    assert.equal(envOf(pod.containers[0]).GWC_HANDLER, '/etc/gwc/handler/main.mjs');
    assert.deepEqual(pod.volumes[1], { name: 'handler', configMap: { name: 'my-handler' } });
    assert.deepEqual(pod.containers[0].volumeMounts[1], { name: 'handler', mountPath: '/etc/gwc/handler', readOnly: true });
    // The default key, and no handler volume on the other roles.
    assert.equal(envOf(workerContainer(build({ worker: { handler: { configMap: { name: 'h' } } } }))).GWC_HANDLER, '/etc/gwc/handler/handler.mjs');
    assert.equal(find(children, 'StatefulSet', 'chat-gateway').spec.template.spec.volumes.length, 1);
  });

  it('worker: spec.worker.env appended after ours, as given', () => {
    const extra = [
      { name: 'DB_URL', value: 'postgres://db' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
    ];
    const env = workerContainer(build({ worker: { env: extra } })).env;
    assert.deepEqual(env.slice(-2), extra);
    assert.ok(env.findIndex((e: { name: string }) => e.name === 'GWC_ABANDON_TIMEOUT') < env.length - 2, 'ours first');
  });
});

describe('builders: Services', () => {
  it('register: ClusterIP with the register and metrics ports', () => {
    const service = find(build({ register: { port: 4000 } }), 'Service', 'chat-register');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [
      { name: 'register', port: 4000, targetPort: 'register', protocol: 'TCP' },
      { name: 'metrics', port: 9236, targetPort: 'metrics', protocol: 'TCP' },
    ]);
  });

  it('headless Services publish ready pods only', () => {
    const children = build();
    const gateway = find(children, 'Service', 'chat-gateway-headless');
    assert.equal(gateway.spec.clusterIP, 'None');
    assert.equal(gateway.spec.publishNotReadyAddresses, false);
    assert.deepEqual(gateway.spec.ports.map((p: any) => [p.name, p.port]), [['internal', 2900], ['metrics', 9272]]);
    const worker = find(children, 'Service', 'chat-worker-headless');
    assert.equal(worker.spec.clusterIP, 'None');
    assert.deepEqual(worker.spec.ports, [{ name: 'metrics', port: 9300, targetPort: 'metrics', protocol: 'TCP' }]);
  });

  it('client Service: ClusterIP on the client port by default', () => {
    const service = find(build(), 'Service', 'chat-gateway');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports, [{ name: 'client', port: 7272, targetPort: 'client', protocol: 'TCP' }]);
    assert.ok(!('annotations' in service.metadata));
  });

  it('client Service: type, annotations and port from spec.gateway.service', () => {
    const annotations = { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' };
    const service = find(build({ gateway: { clientPort: 8000, service: { type: 'LoadBalancer', port: 443, annotations } } }), 'Service', 'chat-gateway');
    assert.equal(service.spec.type, 'LoadBalancer');
    assert.deepEqual(service.metadata.annotations, annotations);
    assert.deepEqual(service.spec.ports, [{ name: 'client', port: 443, targetPort: 'client', protocol: 'TCP' }]);
    assert.deepEqual(gatewayContainer(build({ gateway: { clientPort: 8000 } })).ports[0], { name: 'client', containerPort: 8000, protocol: 'TCP' });
    assert.equal(find(build({ gateway: { service: { type: 'NodePort' } } }), 'Service', 'chat-gateway').spec.type, 'NodePort');
  });

  it('every Service port targets a container port, by name, that the pods it selects have', () => {
    const specs: GatewayClusterSpecInput[] = [{}, { register: { port: 5000 }, gateway: { clientPort: 9000, internalPort: 9001, service: { type: 'NodePort', port: 80 } } }];
    for (const spec of specs) {
      const children = build(spec);
      const services = children.filter((c) => c.kind === 'Service') as any[];
      assert.equal(services.length, 5);
      for (const service of services) {
        const workload = children.find((c) => c.kind !== 'Service' && (c.spec as any)?.selector?.matchLabels?.['app.kubernetes.io/component'] === service.spec.selector['app.kubernetes.io/component']) as any;
        const names = workload.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name);
        for (const port of service.spec.ports) assert.ok(names.includes(port.targetPort), `${service.metadata.name} port ${port.name} -> ${port.targetPort}`);
      }
    }
  });
});

describe('builders: optional children', () => {
  it('PodDisruptionBudgets only for a role with more than one replica', () => {
    const pdbs = (spec: GatewayClusterSpecInput) => build(spec).filter((c) => c.kind === 'PodDisruptionBudget');
    assert.deepEqual(pdbs({}), []);
    assert.deepEqual(pdbs({ gateway: { replicas: 0 }, worker: { replicas: 1 } }), []);
    const gatewayOnly = pdbs({ gateway: { replicas: 2 } });
    assert.equal(gatewayOnly.length, 1);
    assert.equal(gatewayOnly[0]!.apiVersion, 'policy/v1');
    assert.equal(gatewayOnly[0]!.metadata.name, 'chat-gateway');
    assert.deepEqual(gatewayOnly[0]!.spec, {
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': 'chat', 'app.kubernetes.io/component': 'gateway' } },
    });
    const both = pdbs({ gateway: { replicas: 3 }, worker: { replicas: 2 } });
    assert.deepEqual(both.map((p) => [p.metadata.name, (p.spec as any).selector.matchLabels['app.kubernetes.io/component']]), [
      ['chat-gateway', 'gateway'],
      ['chat-worker', 'worker'],
    ]);
  });

  it('ServiceMonitor only when metrics and serviceMonitor are enabled and its CRD is installed', () => {
    const monitors = (spec: GatewayClusterSpecInput, available = true) =>
      build(spec, { ...ctx, serviceMonitorAvailable: available }).filter((c) => c.kind === 'ServiceMonitor');
    assert.deepEqual(monitors({}), []);
    assert.deepEqual(monitors({ metrics: { serviceMonitor: { enabled: true } } }, false), []);
    assert.deepEqual(monitors({ metrics: { enabled: false, serviceMonitor: { enabled: true } } }), []);
    const [monitor] = monitors({ metrics: { serviceMonitor: { enabled: true, interval: '15s' } } });
    assert.ok(monitor);
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.name, 'chat');
    assert.deepEqual(monitor.spec, {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': 'chat' } },
      podTargetLabels: ['app.kubernetes.io/instance'],
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '15s' }],
    });
    // Its selector finds the Services that carry a metrics port.
    const children = build({ metrics: { serviceMonitor: { enabled: true } } });
    const withMetrics = children
      .filter((c) => c.kind === 'Service' && (c.spec as any).ports.some((p: any) => p.name === 'metrics'))
      .map((c) => c.metadata.name);
    assert.deepEqual(withMetrics, ['chat-register', 'chat-gateway-headless', 'chat-worker-headless', 'chat-api']);
    assert.ok(!('interval' in (monitors({ metrics: { serviceMonitor: { enabled: true } } })[0]!.spec as any).endpoints[0]));
  });
});

const HARDENED = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };

describe('builders: pod overrides', () => {
  it('a security context the user sets is merged over the hardened default, so what it leaves out stays hardened', () => {
    const container = (containerSecurityContext: Record<string, unknown>) =>
      find(build({ pod: { containerSecurityContext } }), 'StatefulSet', 'chat-gateway').spec.template.spec.containers[0].securityContext;
    assert.deepEqual(container({}), HARDENED);
    assert.deepEqual(container({ capabilities: { add: ['NET_BIND_SERVICE'] } }), { ...HARDENED, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } });
    assert.deepEqual(container({ readOnlyRootFilesystem: false, runAsUser: 7 }), { ...HARDENED, readOnlyRootFilesystem: false, runAsUser: 7 });
  });

  it('defaults: restricted security contexts, scrape annotations, no scheduling fields but the spread', () => {
    const pod = find(build(), 'StatefulSet', 'chat-gateway').spec.template;
    assert.deepEqual(pod.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9272', 'prometheus.io/path': '/metrics' });
    assert.deepEqual(pod.spec.securityContext, { fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(pod.spec.containers[0].securityContext, HARDENED);
    for (const field of ['nodeSelector', 'tolerations', 'affinity']) assert.ok(!(field in pod.spec), field);
    const noMetrics = find(build({ metrics: { enabled: false } }), 'StatefulSet', 'chat-worker').spec.template;
    assert.ok(!('annotations' in noMetrics.metadata));
  });

  it('spreads gateways, workers and the HTTP API over zones, then nodes, as a preference; the single Register not', () => {
    const children = build({ gateway: { replicas: 3 }, worker: { replicas: 3 } });
    for (const [kind, name, component] of [
      ['StatefulSet', 'chat-gateway', 'gateway'],
      ['StatefulSet', 'chat-worker', 'worker'],
      ['Deployment', 'chat-api', 'api'],
    ] as const) {
      const spread = find(children, kind, name).spec.template.spec.topologySpreadConstraints;
      const ownPods = { matchLabels: { 'app.kubernetes.io/name': 'gateway-cluster', 'app.kubernetes.io/instance': 'chat', 'app.kubernetes.io/component': component } };
      assert.deepEqual(spread, [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: ownPods },
        { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: ownPods },
      ], name);
      // The pods' own labels select them: the spread counts the role's pods and nothing else.
      const labels = find(children, kind, name).spec.template.metadata.labels;
      for (const [key, value] of Object.entries(ownPods.matchLabels)) assert.equal(labels[key], value);
    }
    assert.ok(!('topologySpreadConstraints' in find(children, 'Deployment', 'chat-register').spec.template.spec));
  });

  it('a topology spread or affinity of the spec replaces the default spread; an empty list means none', () => {
    const own = [{ maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' }];
    const affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] } };
    for (const name of ['chat-gateway', 'chat-worker']) {
      assert.deepEqual(find(build({ pod: { topologySpreadConstraints: own } }), 'StatefulSet', name).spec.template.spec.topologySpreadConstraints, own);
      const withAffinity = find(build({ pod: { affinity } }), 'StatefulSet', name).spec.template.spec;
      assert.deepEqual(withAffinity.affinity, affinity);
      assert.ok(!('topologySpreadConstraints' in withAffinity), name);
      assert.deepEqual(find(build({ pod: { topologySpreadConstraints: [] } }), 'StatefulSet', name).spec.template.spec.topologySpreadConstraints, []);
    }
  });

  it('spec.pod lands on every pod, and our labels win', () => {
    const podSpec = {
      labels: { team: 'chat', 'app.kubernetes.io/component': 'mine' },
      annotations: { 'example.com/owner': 'me' },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'chat', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      securityContext: { runAsUser: 2000 },
      containerSecurityContext: { privileged: false },
    };
    const children = build({ pod: podSpec });
    for (const [kind, name, component, port] of [
      ['Deployment', 'chat-register', 'register', '9236'],
      ['StatefulSet', 'chat-gateway', 'gateway', '9272'],
      ['StatefulSet', 'chat-worker', 'worker', '9300'],
    ] as const) {
      const pod = find(children, kind, name).spec.template;
      assert.deepEqual(pod.metadata.labels, { team: 'chat', ...labelsFor('chat', component) });
      assert.deepEqual(pod.metadata.annotations, {
        'example.com/owner': 'me',
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': port,
        'prometheus.io/path': '/metrics',
      });
      assert.deepEqual(pod.spec.nodeSelector, podSpec.nodeSelector);
      assert.deepEqual(pod.spec.tolerations, podSpec.tolerations);
      assert.deepEqual(pod.spec.affinity, podSpec.affinity);
      assert.deepEqual(pod.spec.topologySpreadConstraints, podSpec.topologySpreadConstraints);
      assert.deepEqual(pod.spec.securityContext, { fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 2000 });
      assert.deepEqual(pod.spec.containers[0].securityContext, { ...HARDENED, privileged: false });
    }
    // Pod labels stay on the pods: not on the workload objects, not in selectors.
    assert.ok(!('team' in find(children, 'StatefulSet', 'chat-gateway').metadata.labels));
  });
});

describe('builders: purity', () => {
  const rich: GatewayClusterSpecInput = {
    imagePullSecrets: [{ name: 'pull' }],
    gateway: { replicas: 3, pingData: 'ping', service: { type: 'LoadBalancer', annotations: { a: 'b' } }, resources: { requests: { cpu: '100m' } } },
    worker: { replicas: 2, env: [{ name: 'X', value: '1' }], handler: { configMap: { name: 'h' } } },
    pod: { labels: { l: 'v' }, tolerations: [{ key: 'k', operator: 'Exists' }], containerSecurityContext: { runAsUser: 7 } },
    metrics: { serviceMonitor: { enabled: true, interval: '30s' } },
  };

  it('is deterministic: the same input gives deep-equal output', () => {
    const a = desiredChildren(cluster(rich), ctx);
    const b = desiredChildren(cluster(rich), ctx);
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(a), JSON.stringify(b), 'same key order too');
    assert.deepEqual(desiredChildren(cluster(), ctx), desiredChildren(cluster(), ctx));
  });

  it('does not mutate its (deep-frozen) input, nor share objects with it', () => {
    const input = deepFreeze(cluster(rich));
    const frozenCtx = deepFreeze({ ...ctx });
    const snapshot = structuredClone(input);
    const children = desiredChildren(input, frozenCtx);
    const expected = structuredClone(children);
    assert.deepEqual(input, snapshot);
    // Changing the output leaves the input and the next build alone (no object shared with the spec or a constant).
    for (const child of children) {
      const pod = (child.spec as any).template?.spec;
      if (!pod) continue;
      pod.tolerations.push({ key: 'other' });
      pod.securityContext.extra = true;
      pod.containers[0].securityContext.extra = true;
      pod.containers[0].env.at(-1).value = 'changed';
      if (pod.imagePullSecrets) pod.imagePullSecrets[0].name = 'changed';
      if (pod.containers[0].resources) pod.containers[0].resources.requests.cpu = '1';
    }
    (find(children, 'Service', 'chat-gateway').metadata.annotations as any).a = 'changed';
    assert.deepEqual(input, snapshot);
    assert.deepEqual(desiredChildren(input, frozenCtx), expected);
  });

  it('is plain JSON: a JSON round trip changes nothing', () => {
    const children = desiredChildren(cluster(rich), ctx);
    assert.deepEqual(JSON.parse(JSON.stringify(children)), children);
  });
});
