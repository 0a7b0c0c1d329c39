/**
 * GatewayWorker's PHP GatewayClient (php-cli on the host, as a backend outside the pods would run it) against a
 * GatewayCluster with spec.gatewayWorkerCompat on the test node: the Register Service's compat port, the gateway
 * pods' internal port, the secret the operator generated, the NetworkPolicy letting in the host's network.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Controller } from '../../operator/controller/controller.js';
import { DEFAULT_OPERAND_IMAGE } from '../../operator/builders/container.js';
import { PhpGatewayClient } from '../harness/php-gatewayclient.js';
import { WsTestClient } from '../harness/test-clients.js';
import { waitFor } from '../harness/wait.js';
import { BACKBONE_SUBNET } from './node-layout.js';
import { OperatorFixture } from '../operator/operator-fixture.js';

const ns = 'compat-test';

describe('GatewayWorker\'s GatewayClient against a GatewayCluster on the test node', () => {
  let fixture: OperatorFixture;
  let controller: Controller;

  before(async () => {
    fixture = await OperatorFixture.onNode();
    await fixture.createNamespace(ns);
    ({ controller } = await fixture.startController({ namespace: ns }));
  });

  after(async () => {
    controller?.stop();
    await fixture?.stop();
  });

  it('pushes from PHP through the Register Service and the gateway pods, with the generated compat secret', async () => {
    await fixture.createCluster(ns, 'push', {
      image: DEFAULT_OPERAND_IMAGE,
      imagePullPolicy: 'Never',
      gateway: { replicas: 2 },
      worker: { replicas: 1, handler: { module: 'echo' } },
      api: { enabled: false },
      gatewayWorkerCompat: { enabled: true },
      // PHP runs on the host, outside the cluster: let the backbone in, as a user lets in backends on the nodes'
      // network (a Service reached from the host comes from its node's address, a pod IP from the host's).
      networkPolicy: { internalFrom: [{ ipBlock: { cidr: BACKBONE_SUBNET } }] },
    });
    await fixture.waitForCondition(ns, 'push', 'Ready', 'True', 180_000);
    const secret = await fixture.read(`/api/v1/namespaces/${ns}/secrets/push-gatewayworker-secret`);
    const secretKey = Buffer.from(secret.data.secret, 'base64').toString();
    const register = await fixture.read(`/api/v1/namespaces/${ns}/services/push-register`);
    const port = register.spec.ports.find((p: { name: string }) => p.name === 'gatewayworker').port;
    const php = new PhpGatewayClient(`${register.spec.clusterIP}:${port}`, secretKey);
    const gatewayIps = [await fixture.podIp(ns, 'push-gateway-0'), await fixture.podIp(ns, 'push-gateway-1')];
    const clients = [await WsTestClient.open(`ws://${gatewayIps[0]}:7272/`), await WsTestClient.open(`ws://${gatewayIps[1]}:7272/`)];
    try {
      // kube-proxy may program the Register Service a moment after Ready: GatewayClient's first try can be refused.
      const list = await waitFor('GatewayClient to list both clients', async () => {
        const answer = await php.call('getAllClientIdList');
        if (answer.json && Object.keys(answer.json).length === 2) return answer.json as Record<string, string>;
        throw new Error(`GatewayClient answered ${JSON.stringify(answer)}`);
      }, 30_000, 500);
      const ids = Object.keys(list);
      // Each id names its gateway pod: GatewayClient dials it there, on the internal port.
      const hostOf = (id: string) => Buffer.from(id.slice(0, 8), 'hex').join('.');
      assert.deepEqual(ids.map(hostOf).sort(), [...gatewayIps].sort());
      const byGateway = gatewayIps.map((ip) => ids.find((id) => hostOf(id) === ip)!);
      await php.call('bindUid', byGateway[0], 'alice');
      await php.call('bindUid', byGateway[1], 'bob');
      await php.call('sendToUid', ['alice', 'bob'], 'from php on the host');
      await Promise.all(clients.map((client) => client.next((m) => m === 'from php on the host')));
      await php.call('setSession', byGateway[1], { plan: 'pro' });
      assert.equal((await php.call('getSession', byGateway[1])).export, "array (\n  'plan' => 'pro',\n)");
      assert.equal((await php.call('isUidOnline', 'alice')).export, '1');
      assert.equal((await php.call('getAllClientCount')).export, '2');
      const wrong = new PhpGatewayClient(`${register.spec.clusterIP}:${port}`, 'not-the-compat-secret');
      assert.match((await wrong.call('getAllClientCount')).error ?? '', /getAllGatewayAddressesFromRegister fail/, 'the Register refuses a wrong secret');
      wrong.close();
    } finally {
      php.close();
      for (const client of clients) client.close();
    }
  });
});
