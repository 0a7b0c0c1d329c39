/**
 * registerAddress as a list (GatewayWorker's array form): gateways announce to every Register, workers and API
 * clients subscribe to every one, and any one serving is enough, for a process that starts while another is down.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GatewayClient } from '../../runtime/gateway-api/gateway-client.js';
import { RoleProcess } from '../harness/role-process.js';
import { claimSubnet } from '../harness/subnets.js';
import { fixtureHandler, TEST_SECRET } from '../harness/test-cluster.js';
import { WsTestClient } from '../harness/test-clients.js';

const { ip } = await claimSubnet();
const registers = [ip(1), ip(2)].map((host) => `${host}:1236`);
const env = { GWC_SECRET: TEST_SECRET, GWC_REGISTER_ADDRESS: registers.join(',') };

describe('several Registers', () => {
  const processes: RoleProcess[] = [];
  const start = (label: string, args: string[]) => {
    const process = new RoleProcess(label, args, { ...env, GWC_NAME: label });
    processes.push(process);
    return process;
  };
  after(() => Promise.all(processes.map((process) => process.stop('SIGKILL'))));

  it('any one serving is enough: a worker and an API client start and work while the other is down', async () => {
    const [first, second] = [1, 2].map((host) => start(`register${host}`, ['register', '--host', ip(host), '--metrics-host', ip(host), '--register-address', `${ip(host)}:1236`]));
    await Promise.all([first!.waitForEvent('ready'), second!.waitForEvent('ready')]);
    const gateway = start('gateway', ['gateway', '--host', ip(10), '--lan-ip', ip(10), '--metrics-host', ip(10)]);
    await gateway.waitForEvent('ready');
    for (const register of registers) await gateway.waitForEvent('announced', { register });
    const oldWorker = start('worker0', ['worker', '--handler', fixtureHandler, '--metrics-host', ip(20)]);
    await gateway.waitForEvent('worker-connected');

    await first!.stop('SIGKILL');
    const newWorker = start('worker1', ['worker', '--handler', fixtureHandler, '--metrics-host', ip(21)]);
    await newWorker.waitForEvent('gateway-connected');
    await oldWorker.stop('SIGKILL');
    const client = await WsTestClient.open(`ws://${ip(10)}:7272/`);
    client.send(JSON.stringify({ op: 'whoami', id: 'who' }));
    const reply = JSON.parse(await client.next((m) => m.includes('"id":"who"'))) as { worker: string };
    assert.equal(reply.worker, 'worker1', 'handled by the worker that found the gateway through the second Register');

    const api = await GatewayClient.connect({ registerAddress: registers, secret: TEST_SECRET, requestTimeoutMs: 3000 });
    try {
      assert.equal(await api.getAllClientCount(), 1);
    } finally {
      api.close();
      client.close();
    }
  });
});
