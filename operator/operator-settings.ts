import { hostname } from 'node:os';
import { z } from 'zod';
import { metricsSettings } from '../runtime/config/common-settings.js';
import { decimal } from '../runtime/config/setting-values.js';
import { bool, logLevelSchema, positiveInt, setting } from '../runtime/config/settings.js';
import { DEFAULT_OPERAND_IMAGE } from './builders/container.js';
import { DEFAULT_LEASE_SECONDS, DEFAULT_RENEW_DEADLINE_SECONDS } from './controller/leader-election.js';

export const operatorSettings = {
  namespace: setting('namespace', 'GWC_WATCH_NAMESPACE', z.string().optional(), 'watch GatewayClusters in this namespace only (default: all namespaces)'),
  leaderElect: setting('leader-elect', 'GWC_LEADER_ELECT', bool.default(true), 'true: only the holder of the Lease reconciles'),
  leaderElectionNamespace: setting(
    'leader-election-namespace',
    'POD_NAMESPACE',
    z.string().min(1).default('default'),
    'namespace of the leader Lease (the pod namespace in a cluster)',
  ),
  leaseName: setting('lease-name', 'GWC_LEASE_NAME', z.string().min(1).default('gateway-cluster-operator'), 'name of the leader Lease'),
  leaseDuration: setting(
    'lease-duration',
    'GWC_LEASE_DURATION',
    decimal({ above: 0 }, DEFAULT_LEASE_SECONDS).text,
    'seconds a Lease nobody renews stays taken, as the other candidates count them',
  ),
  renewDeadline: setting(
    'renew-deadline',
    'GWC_RENEW_DEADLINE',
    decimal({ above: 0 }, DEFAULT_RENEW_DEADLINE_SECONDS).text,
    'seconds the leader goes on after its last successful renewal was sent; must be shorter than --lease-duration',
  ),
  retryPeriod: setting('retry-period', 'GWC_RETRY_PERIOD', decimal({ above: 0 }, 2).text, 'seconds between renewals, and between looks at the Lease'),
  identity: setting('identity', 'POD_NAME', z.string().min(1).default(`${hostname()}-${process.pid}`), 'this candidate\'s name in the Lease', 'host name-pid'),
  operandImage: setting(
    'operand-image',
    'GWC_OPERAND_IMAGE',
    z.string().min(1).default(DEFAULT_OPERAND_IMAGE),
    'image of the GatewayClusters whose spec.image is unset (the chart sets the operator\'s own image)',
  ),
  allowPrivilegedPods: setting(
    'allow-privileged-pods',
    'GWC_ALLOW_PRIVILEGED_PODS',
    bool.default(false),
    'true: GatewayClusters may give their pods privilege (privileged, added capabilities, root, host SELinux/seccomp/AppArmor, unsafe sysctls, tolerating every taint, control-plane nodes); false: such a cluster is refused (Degraded) and its children are left as they were',
  ),
  healNodeLoss: setting(
    'heal-node-loss',
    'GWC_HEAL_NODE_LOSS',
    bool.default(true),
    'watch Nodes, and force-delete a GatewayCluster\'s pods on a node lost for longer than its spec.nodeLossTimeout (false: never, and no access to Nodes needed)',
  ),
  concurrency: setting('concurrency', 'GWC_CONCURRENCY', positiveInt.default(2), 'GatewayClusters reconciled at once'),
  logLevel: setting('log-level', 'GWC_LOG_LEVEL', logLevelSchema.default('info'), 'debug, info, warn or error'),
  ...metricsSettings(8080),
};
