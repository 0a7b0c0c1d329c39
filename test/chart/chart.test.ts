import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import { childNames } from '../../operator/builders/names.js';
import { crdPath } from '../../operator/crd/write-crd.js';
import { operatorSettings } from '../../operator/operator-settings.js';
import { loadSettings } from '../../runtime/config/settings.js';
import { ensureBinaries } from '../control-plane/binaries.js';
import { chartDir as chart, packageChart } from './package-chart.js';


function helm(...args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync(ensureBinaries().helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

const render = (...set: string[]) => {
  const result = helm('template', 'gwc', chart, '--namespace', 'ops', ...set.flatMap((s) => ['--set', s]));
  assert.equal(result.status, 0, result.output);
  return yaml.loadAll(result.output).filter(Boolean) as Array<{ kind: string; metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any }>;
};

describe('the Helm chart', () => {
  it('passes helm lint --strict', () => {
    const result = helm('lint', chart, '--strict');
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('packages into an archive that holds the CRD itself, and installs from it as from the folder', () => {
    const archive = packageChart();
    assert.match(path.basename(archive), /^gateway-cluster-\d+\.\d+\.\d+\.tgz$/);
    const listing = execFileSync('tar', ['-tvzf', archive], { encoding: 'utf8' });
    assert.match(listing, /^-.* gateway-cluster\/crds\/gatewaycluster\.dev_gatewayclusters\.yaml$/m, 'the CRD as a file');
    const crd = execFileSync('tar', ['-xzOf', archive, 'gateway-cluster/crds/gatewaycluster.dev_gatewayclusters.yaml'], { encoding: 'utf8' });
    assert.equal(crd, readFileSync(crdPath, 'utf8'));
    for (const file of ['Chart.yaml', 'values.yaml', 'values.schema.json', 'README.md', 'templates/deployment.yaml']) assert.ok(listing.includes(`gateway-cluster/${file}`), file);
    assert.equal(helm('lint', archive, '--strict').status, 0);
    const fromArchive = helm('template', 'gwc', archive, '--namespace', 'ops');
    const fromFolder = helm('template', 'gwc', chart, '--namespace', 'ops');
    assert.equal(fromArchive.status, 0, fromArchive.output);
    assert.equal(fromArchive.output, fromFolder.output);
    rmSync(path.dirname(archive), { recursive: true, force: true });
  });

  it('ships the very CRD file in crds/', () => {
    assert.equal(realpathSync(path.join(chart, 'crds/gatewaycluster.dev_gatewayclusters.yaml')), realpathSync(crdPath));
  });

  it('renders the operator with leader election, a ClusterRole by default and a Role per namespace on request', () => {
    const wide = render();
    const kinds = wide.map((o) => o.kind).sort();
    assert.deepEqual(kinds, ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'Pod', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const deployment = wide.find((o) => o.kind === 'Deployment')!;
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    assert.equal(env.GWC_LEADER_ELECT, 'true');
    assert.equal(env.GWC_WATCH_NAMESPACE, undefined);
    assert.deepEqual(deployment.spec.template.spec.containers[0].args, ['operator']);
    assert.equal(deployment.spec.replicas, 2);

    const narrow = render('watch.allNamespaces=false');
    const clusterWide = narrow.filter((o) => o.kind === 'ClusterRole');
    assert.deepEqual(clusterWide.map((o) => o.rules), [[{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]], 'watching one namespace, only Nodes are read cluster-wide (a node loss)');
    const withoutNodes = render('watch.allNamespaces=false', 'nodeLoss.enabled=false');
    assert.ok(!withoutNodes.some((o) => o.kind.startsWith('Cluster')), 'no cluster-wide RBAC when watching one namespace without nodeLoss');
    const podRule = (objects: typeof narrow) => objects.find((o) => o.kind === 'Role' && o.metadata.name === 'gwc-gateway-cluster')!.rules.find((r: { resources: string[] }) => r.resources.includes('pods'));
    assert.deepEqual(podRule(narrow).verbs, ['get', 'list', 'watch', 'delete']);
    assert.deepEqual(podRule(withoutNodes).verbs, ['get', 'list', 'watch'], 'pods are deleted only to heal a node loss');
    const operatorEnv = (objects: typeof narrow) => objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>;
    assert.equal(operatorEnv(narrow).find((e) => e.name === 'GWC_HEAL_NODE_LOSS')?.value, 'true');
    assert.equal(operatorEnv(withoutNodes).find((e) => e.name === 'GWC_HEAL_NODE_LOSS')?.value, 'false');
    const narrowEnv = narrow.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].env;
    assert.ok(narrowEnv.some((e: { name: string; value: string }) => e.name === 'GWC_WATCH_NAMESPACE' && e.value === 'ops'));
  });

  it('gives the operator its own image as the operand image, unless operandImage names another', () => {
    const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(path.join(chart, 'Chart.yaml'), 'utf8'))![1];
    const container = (...set: string[]) => render(...set).find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0];
    const envOf = (c: { env: Array<{ name: string; value?: string }> }) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    const defaults = container();
    assert.equal(defaults.image, `ghcr.io/gatewaycluster/gateway-cluster:${appVersion}`);
    assert.equal(envOf(defaults).GWC_OPERAND_IMAGE, defaults.image);
    assert.equal(envOf(container('image.tag=9.9.9')).GWC_OPERAND_IMAGE, 'ghcr.io/gatewaycluster/gateway-cluster:9.9.9');
    const other = container('operandImage=registry.example/gwc:1');
    assert.equal(envOf(other).GWC_OPERAND_IMAGE, 'registry.example/gwc:1');
    assert.equal(other.image, defaults.image);
  });

  it('lets the operator allow privileged pods only when allowPrivilegedPods says so (off by default)', () => {
    const operatorEnv = (...set: string[]) => {
      const env = render(...set).find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
      return Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    };
    const allowed = (...set: string[]) => loadSettings('operator', operatorSettings, [], operatorEnv(...set)).allowPrivilegedPods;
    assert.equal(operatorEnv().GWC_ALLOW_PRIVILEGED_PODS, 'false');
    assert.equal(allowed(), false);
    assert.equal(allowed('allowPrivilegedPods=true'), true);
    const refused = helm('template', 'gwc', chart, '--set-string', 'allowPrivilegedPods=yes');
    assert.notEqual(refused.status, 0, 'the values schema takes a boolean only');
    assert.match(refused.output, /allowPrivilegedPods/);
  });

  it('takes the usual overrides', () => {
    const objects = render(
      'nameOverride=gwc-op', 'fullnameOverride=ops-operator', 'serviceAccount.annotations.iam\\.example/role=arn-1',
      'podSecurityContext.runAsUser=1234', 'securityContext.readOnlyRootFilesystem=false', 'priorityClassName=critical',
      'extraEnv[0].name=GWC_LEASE_NAME', 'extraEnv[0].value=my-lease', 'podAnnotations.a=b', 'image.digest=sha256:' + 'ab'.repeat(32),
      'metrics.serviceMonitor.enabled=true', 'metrics.serviceMonitor.labels.release=prom',
    );
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    assert.equal(deployment.metadata.name, 'ops-operator');
    assert.equal(deployment.metadata.labels['app.kubernetes.io/name'], 'gwc-op');
    const pod = deployment.spec.template;
    assert.equal(pod.spec.securityContext.runAsUser, 1234);
    assert.equal(pod.spec.containers[0].securityContext.readOnlyRootFilesystem, false);
    assert.equal(pod.spec.priorityClassName, 'critical');
    assert.equal(pod.metadata.annotations.a, 'b');
    assert.equal(pod.spec.containers[0].image, `ghcr.io/gatewaycluster/gateway-cluster@sha256:${'ab'.repeat(32)}`);
    assert.ok(pod.spec.containers[0].env.some((e: { name: string; value: string }) => e.name === 'GWC_LEASE_NAME' && e.value === 'my-lease'));
    assert.deepEqual(objects.find((o) => o.kind === 'ServiceAccount')!.metadata.annotations, { 'iam.example/role': 'arn-1' });
    assert.equal(objects.find((o) => o.kind === 'ServiceMonitor')!.metadata.labels.release, 'prom');
    assert.equal(pod.spec.serviceAccountName, 'ops-operator');
  });

  it('keeps every name and label within 63 characters, with the longest release name Helm allows', () => {
    const release = 'r'.repeat(53);
    const result = helm('template', release, chart, '--namespace', 'ops', '--set', 'metrics.serviceMonitor.enabled=true');
    assert.equal(result.status, 0, result.output);
    const objects = yaml.loadAll(result.output).filter(Boolean) as Array<{ kind: string; metadata: { name: string; labels: Record<string, string> } }>;
    for (const object of objects) {
      assert.ok(object.metadata.name.length <= 63, `${object.kind} ${object.metadata.name} (${object.metadata.name.length})`);
      for (const [key, value] of Object.entries(object.metadata.labels)) assert.ok(value.length <= 63, `${object.kind} label ${key}=${value}`);
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    assert.equal(new Set(names).size, names.length, `names stay distinct: ${names.join(' ')}`);
  });

  it('puts the recommended labels on every object and the pod template', () => {
    const objects = render('metrics.serviceMonitor.enabled=true');
    const recommended = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    for (const [what, labels] of [...objects.map((o) => [`${o.kind} ${o.metadata.name}`, o.metadata.labels] as const), ['pod template', deployment.spec.template.metadata.labels] as const]) {
      for (const label of recommended) assert.ok(labels?.[label], `${what} has ${label}`);
    }
  });

  it('spreads several operator replicas across zones and nodes and lets a drain take one at a time; refuses several without leader election', () => {
    const two = render();
    const deployment = two.find((o) => o.kind === 'Deployment')!;
    const spread = deployment.spec.template.spec.topologySpreadConstraints;
    assert.deepEqual(spread.map((c: any) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable]), [
      ['topology.kubernetes.io/zone', 1, 'ScheduleAnyway'],
      ['kubernetes.io/hostname', 1, 'ScheduleAnyway'],
    ]);
    for (const constraint of spread) assert.deepEqual(constraint.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    const withAffinity = render('affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=pool',
      'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists');
    assert.equal(withAffinity.find((o) => o.kind === 'Deployment')!.spec.template.spec.topologySpreadConstraints, undefined, 'an affinity of the user\'s replaces the spread');
    assert.equal(two.find((o) => o.kind === 'PodDisruptionBudget')?.spec.maxUnavailable, 1);
    const one = render('replicaCount=1');
    assert.ok(!one.some((o) => o.kind === 'PodDisruptionBudget'), 'no budget that would block every drain');
    assert.equal(one.find((o) => o.kind === 'Deployment')!.spec.template.spec.topologySpreadConstraints, undefined);
    const refused = helm('template', 'gwc', chart, '--set', 'leaderElection.enabled=false');
    assert.notEqual(refused.status, 0);
    assert.match(refused.output, /replicaCount=2 needs leaderElection\.enabled=true/);
    assert.equal(render('leaderElection.enabled=false', 'replicaCount=1').find((o) => o.kind === 'Deployment')!.spec.replicas, 1);
  });

  it('has a helm test pod: a WebSocket client for a named cluster, else the operator\'s /readyz', () => {
    const testPod = (...set: string[]) => render(...set).find((o) => o.kind === 'Pod')!;
    const env = (pod: any) => Object.fromEntries(pod.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    const readiness = testPod();
    assert.equal(readiness.metadata.annotations?.['helm.sh/hook'], 'test');
    assert.equal(env(readiness).TARGET, 'http://gwc-gateway-cluster-metrics.ops.svc:8080/readyz');
    assert.equal(env(testPod('tests.gatewayCluster=chat', 'tests.namespace=apps')).TARGET, 'ws://chat-gateway.apps.svc:7272/');
    assert.equal(readiness.spec.automountServiceAccountToken, false);
    assert.ok(!render('tests.enabled=false').some((o) => o.kind === 'Pod'));
  });

  it('adds alerts and a Grafana dashboard only when asked', () => {
    assert.ok(!render().some((o) => o.kind === 'PrometheusRule' || (o.kind === 'ConfigMap' && o.metadata.labels.grafana_dashboard)));
    const objects = render('metrics.prometheusRule.enabled=true', 'metrics.prometheusRule.labels.release=prom', 'metrics.prometheusRule.unacknowledgedEvents=1234',
      'metrics.dashboard.enabled=true', 'metrics.dashboard.namespace=grafana');
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    assert.equal(rule.metadata.labels.release, 'prom');
    const alerts = rule.spec.groups[0].rules as Array<{ alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }>;
    assert.deepEqual(alerts.map((a) => a.alert), ['GatewayClusterNoGatewayReady', 'GatewayClusterWorkersBehind', 'GatewayClusterSlowClientsClosed', 'GatewayClusterReconcileErrors']);
    assert.match(alerts[1]!.expr, /> 1234$/);
    assert.match(alerts[0]!.annotations.summary, /\{\{ \$labels\.namespace \}\}/, 'Prometheus templates survive Helm\'s');
    // The gateways' headless Service, as the operator names it.
    assert.ok(alerts[0]!.expr.includes(`".+${childNames('x').gatewayHeadless.slice(1)}"`), alerts[0]!.expr);
    const dashboard = objects.find((o) => o.kind === 'ConfigMap')!;
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.equal(dashboard.metadata.namespace, 'grafana');
    const json = JSON.parse(dashboard.data['gateway-cluster.json']) as { panels: Array<{ title: string }> };
    assert.deepEqual(json.panels.map((p) => p.title), ['Client connections', 'Messages from and to clients', 'Handler latency', 'Events waiting for workers', 'Redeliveries and slow clients closed', 'Memory per pod']);
  });

  it('adds a ServiceMonitor only when asked', () => {
    assert.ok(!render().some((o) => o.kind === 'ServiceMonitor'));
    const monitor = render('metrics.serviceMonitor.enabled=true').find((o) => o.kind === 'ServiceMonitor');
    assert.equal(monitor?.spec.endpoints[0].port, 'metrics');
  });

  it('refuses values its schema does not allow, naming them', () => {
    for (const [set, field] of [['replicaCount=0', 'replicaCount'], ['logLevel=loud', 'logLevel'], ['metrics.port=70000', 'port'], ['nope=1', 'nope']]) {
      const result = helm('template', 'gwc', chart, '--set', set!);
      assert.notEqual(result.status, 0, `${set} accepted`);
      assert.match(result.output, new RegExp(field!), result.output);
    }
  });

  it('says what to do next after install', () => {
    const notes = readFileSync(path.join(chart, 'templates/NOTES.txt'), 'utf8');
    for (const step of ['kubectl apply', 'kubectl get gwc', 'kubectl scale gwc/chat', 'port-forward']) assert.ok(notes.includes(step), step);
  });
});
