/**
 * The operator process (`gwc operator`, `npm run operator`): watches GatewayClusters with the current kubeconfig
 * (or the in-cluster service account), reconciles while it holds the leader Lease, serves /metrics, /healthz and
 * /readyz, and stops cleanly on SIGTERM, handing the Lease back.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, helpText, loadSettings } from '../runtime/config/settings.js';
import { startHealthServer } from '../runtime/observability/health-server.js';
import { createLogger } from '../runtime/observability/log.js';
import { Controller } from './controller/controller.js';
import { LeaderElection } from './controller/leader-election.js';
import { KubeClient } from './kube/kube-client.js';
import { operatorSettings } from './operator-settings.js';

const SUMMARY = 'Runs GatewayClusters: keeps each one\'s Register, Gateways, Workers, Services and Secret as its spec says.';

export async function runOperator(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('operator', SUMMARY, operatorSettings));
    return;
  }
  let settings;
  try {
    settings = loadSettings('operator', operatorSettings, argv, process.env);
    if (settings.leaderElect && settings.renewDeadline >= settings.leaseDuration) {
      throw new ConfigError(`operator: --renew-deadline (${settings.renewDeadline}) must be shorter than --lease-duration (${settings.leaseDuration})`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger({ role: 'operator', name: settings.identity }, settings.logLevel);
  process.on('unhandledRejection', (error) => log.error('unhandled rejection', { error }));
  process.on('uncaughtException', (error) => log.error('uncaught exception', { error }));

  const kc = new KubeConfig();
  kc.loadFromDefault();
  const userAgent = `gateway-cluster-operator/${settings.identity}`;
  const election = settings.leaderElect
    ? new LeaderElection({
        client: new KubeClient(kc, { userAgent: `${userAgent} (leader election)` }),
        namespace: settings.leaderElectionNamespace,
        name: settings.leaseName,
        identity: settings.identity,
        log,
        leaseDurationSeconds: settings.leaseDuration,
        renewDeadlineSeconds: settings.renewDeadline,
        retryPeriodMs: settings.retryPeriod * 1000,
      })
    : undefined;
  // With leader election, every request of the controller must finish within the leader's renew deadline, and none
  // is sent after it: a leader that was paused (SIGSTOP, a long GC) stops without writing.
  const client = new KubeClient(kc, { userAgent, ...(election ? { budgetMs: () => election.remainingMs() } : {}) });
  const controller = new Controller({
    client,
    log,
    concurrency: settings.concurrency,
    operandImage: settings.operandImage,
    allowPrivilegedPods: settings.allowPrivilegedPods,
    healNodeLoss: settings.healNodeLoss,
    ...(settings.namespace ? { namespace: settings.namespace } : {}),
  });
  let started = false;
  const startController = async () => {
    if (started) return;
    started = true;
    controller.metrics.isLeader.set(1);
    log.info('reconciling', { namespace: settings.namespace ?? '(all)' });
    try {
      await controller.start();
      log.info('caches synced', { clusters: controller.clusters.items().length });
    } catch (error) {
      log.error('could not start watching', { error });
      process.exit(1);
    }
  };

  if (election) {
    election.on('leading', () => {
      log.info('became leader', { logEvent: 'leader-elected', lease: `${settings.leaderElectionNamespace}/${settings.leaseName}` });
      void startController();
    });
    // Crash-only: a process that lost the lease may hold stale caches; the pod restarts as a candidate.
    election.on('lost', () => {
      log.error('lost the leader lease; exiting', { logEvent: 'leader-lost' });
      process.exit(1);
    });
    election.start();
    log.info('candidate for leadership', { logEvent: 'leader-candidate', lease: `${settings.leaderElectionNamespace}/${settings.leaseName}` });
  } else {
    void startController();
  }

  if (settings.metricsPort > 0) {
    await startHealthServer({
      host: settings.metricsHost,
      port: settings.metricsPort,
      registry: controller.metrics.registry,
      // A standby candidate is ready: it is doing its job, which is to wait.
      isReady: () => (election && !election.leading) || controller.synced,
      log,
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    controller.stop();
    await election?.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
