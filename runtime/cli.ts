#!/usr/bin/env node
import { apiRole } from './roles/api-role.js';
import { gatewayRole } from './roles/gateway-role.js';
import { runLocalCluster } from './roles/local/local-cluster.js';
import { registerRole } from './roles/register-role.js';
import { runRole } from './roles/run-role.js';
import { workerRole } from './roles/worker-role.js';

const usage = `Usage: gwc <command> [options]

Commands:
  register   run the Register (directory of gateways)
  gateway    run a Gateway (holds client connections)
  worker     run a BusinessWorker (runs your handler module)
  api        serve the Gateway API over HTTP/JSON for any backend
  local      run a whole cluster on loopback with the demo chat
  operator   run the Kubernetes operator (reconciles GatewayCluster resources)

Run "gwc <command> --help" for the options of each.
`;

const [command, ...args] = process.argv.slice(2);
switch (command) {
  case 'register':
    await runRole(registerRole, args);
    break;
  case 'gateway':
    await runRole(gatewayRole, args);
    break;
  case 'worker':
    await runRole(workerRole, args);
    break;
  case 'api':
    await runRole(apiRole, args);
    break;
  case 'local':
    await runLocalCluster(args);
    break;
  case 'operator': {
    // Loaded only here: the runtime roles do not need the Kubernetes client.
    const { runOperator } = await import('../operator/main.js');
    await runOperator(args);
    break;
  }
  case undefined:
  case '--help':
  case '-h':
  case 'help':
    process.stdout.write(usage);
    break;
  default:
    process.stderr.write(`gwc: unknown command ${JSON.stringify(command)}\n${usage}`);
    process.exit(2);
}
