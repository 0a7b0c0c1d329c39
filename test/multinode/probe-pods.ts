/**
 * Pods of the project's image that only stand on a node of the test's choosing, with the labels it wants, so that
 * the test can open TCP connections from inside the cluster (kubectl exec of a few lines of Node).
 */
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';
import { waitFor } from '../harness/wait.js';
import { clusterNodes } from '../node/cluster-nodes.js';
import { nodeDir } from '../control-plane/testcluster-state.js';
import type { OperatorFixture } from '../operator/operator-fixture.js';

/** The spec fields that run a GatewayCluster on the test cluster: the project's image, as imported into every node. */
export const IMAGE_ON_THE_NODES = { image: DEFAULT_OPERAND_IMAGE, imagePullPolicy: 'Never' as const };

/** host and port. */
export type Target = [host: string, port: number];
/** 'open', or why not: an error code (ECONNREFUSED when a policy rejects) or 'timeout'. */
export type Outcome = string;

const CONNECT_TIMEOUT_MS = 2500;

/** Opens a TCP connection to every target at once and prints what became of each, as JSON, in target order. */
const CONNECT_SCRIPT = `
const net = require('net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map(([host, port]) => new Promise((resolve) => {
  const socket = net.connect({ host, port });
  const done = (outcome) => { socket.destroy(); resolve(outcome); };
  socket.setTimeout(${CONNECT_TIMEOUT_MS}, () => done('timeout'));
  socket.on('connect', () => done('open'));
  socket.on('error', (error) => done(error.code || error.message));
}))).then((outcomes) => console.log(JSON.stringify(outcomes)));
`;

/** The test cluster's node names, in order; fails a test that needs more than there are. */
export function requireNodes(count: number): string[] {
  const names = clusterNodes(nodeDir).map((node) => node.name);
  if (names.length < count) {
    throw new Error(`this test needs a test cluster of ${count} nodes, the running one has ${names.length}: run it with \`npm test -- multinode/\` (which brings one up) or after \`npm run testcluster -- up --nodes ${count}\``);
  }
  return names;
}

export interface ProbePodOptions {
  node: string;
  labels?: Record<string, string>;
  env?: object[];
}

/** Starts a probe pod on `node` and waits until it runs. */
export async function startProbePod(fixture: OperatorFixture, namespace: string, name: string, options: ProbePodOptions): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'gwc-test/probe': 'true', ...options.labels } },
    spec: {
      nodeName: options.node,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'probe',
        ...IMAGE_ON_THE_NODES,
        command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
        env: options.env ?? [],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
  await fixture.core.createNamespacedPod({ namespace, body: pod as never });
  await waitFor(`probe pod ${name} to run`, async () => (await fixture.read(`/api/v1/namespaces/${namespace}/pods/${name}`))?.status?.phase === 'Running', 60_000, 200);
}

/** What became of a connection from `pod` to each target, in order. */
export function connectFrom(fixture: OperatorFixture, namespace: string, pod: string, targets: Target[]): Outcome[] {
  return JSON.parse(fixture.kubectl('-n', namespace, 'exec', pod, '--', 'node', '-e', CONNECT_SCRIPT, JSON.stringify(targets))) as Outcome[];
}

/**
 * Until `pod` can connect to every target: a NetworkPolicy engine lets a new pod in a few seconds after it starts
 * (kube-router adds its address to its sets then).
 */
export async function waitUntilOpen(fixture: OperatorFixture, namespace: string, pod: string, targets: Target[], timeoutMs = 60_000): Promise<void> {
  let last: Outcome[] = [];
  await waitFor(`${pod} to connect to ${targets.map(([host, port]) => `${host}:${port}`).join(', ')}`, () => {
    last = connectFrom(fixture, namespace, pod, targets);
    return last.every((outcome) => outcome === 'open');
  }, timeoutMs, 500).catch((error: Error) => {
    throw new Error(`${error.message}; last outcomes: ${JSON.stringify(last)}`);
  });
}

/** The node a pod was scheduled on. */
export async function nodeOf(fixture: OperatorFixture, namespace: string, pod: string): Promise<string> {
  return waitFor(`pod ${pod} to be scheduled`, async () => (await fixture.read(`/api/v1/namespaces/${namespace}/pods/${pod}`))?.spec?.nodeName as string | undefined, 60_000, 200);
}
