import type { KubeObject } from '../kube/kube-client.js';
import type { Condition, GatewayClusterStatus } from '../spec/gateway-cluster-status.js';
import { mergeConditions, type ConditionInput } from './conditions.js';
import { NODE_LOSS_CONDITION } from './node-loss-healer.js';
import { degradedMessage, type Problem } from './problems.js';

export interface RoleState {
  replicas: number;
  ready: number;
  /** The workload controller has not yet seen the latest change, or is still rolling it out. */
  rollingOut: boolean;
}

export interface StatusInputs {
  generation: number | undefined;
  previous: GatewayClusterStatus | undefined;
  register: RoleState;
  gateways: RoleState;
  workers: RoleState;
  /** The HTTP API, when spec.api runs it. */
  api: RoleState | undefined;
  apiUrl: string | undefined;
  workerSelector: string;
  address: string;
  registerAddress: string;
  secretName: string;
  paused: boolean;
  /** Why the cluster cannot become healthy on its own (missing Secret, stuck pods, failed writes). */
  problems: Problem[];
  /** The NodeLoss condition when there is news; otherwise the last one that said none is lost stands. */
  nodeLoss: ConditionInput | undefined;
  now: string;
}

/** The state of a Deployment or StatefulSet as far as status cares; `wanted` when the object does not exist yet. */
export function roleState(workload: KubeObject | undefined, wanted: number): RoleState {
  if (!workload) return { replicas: wanted, ready: 0, rollingOut: wanted > 0 };
  const spec = workload.spec as { replicas?: number };
  const status = (workload.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number; replicas?: number };
  const replicas = spec.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  const observedLatest = (status.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0);
  const rollingOut = !observedLatest || (status.updatedReplicas ?? 0) < replicas || (status.replicas ?? 0) !== replicas;
  return { replicas, ready, rollingOut };
}

/** No pod on a lost node: the last False condition (what was last force-deleted) stands, else NoLostNodes. */
function quietNodeLoss(previous: GatewayClusterStatus | undefined): ConditionInput {
  const last = previous?.conditions?.find((c) => c.type === NODE_LOSS_CONDITION);
  if (last?.status === 'False') return { type: last.type, status: last.status, reason: last.reason, message: last.message };
  return { type: NODE_LOSS_CONDITION, status: 'False', reason: 'NoLostNodes', message: 'no pod of this cluster is on a lost node' };
}

export function clusterStatus(input: StatusInputs): GatewayClusterStatus {
  const { register, gateways, workers, api } = input;
  const apiReady = !api || api.ready === api.replicas;
  const allReady = register.ready >= 1 && gateways.ready === gateways.replicas && workers.ready === workers.replicas && apiReady;
  const waitingFor = [
    register.ready < 1 ? 'the Register' : '',
    gateways.ready < gateways.replicas ? `gateways ${gateways.ready}/${gateways.replicas} ready` : '',
    workers.ready < workers.replicas ? `workers ${workers.ready}/${workers.replicas} ready` : '',
    api && !apiReady ? `the HTTP API ${api.ready}/${api.replicas} ready` : '',
  ].filter(Boolean);
  const progressing = !allReady || register.rollingOut || gateways.rollingOut || workers.rollingOut || Boolean(api?.rollingOut);
  const conditions: ConditionInput[] = [
    allReady
      ? { type: 'Ready', status: 'True', reason: 'AllReady', message: `the Register, every gateway${api ? ', every worker and the HTTP API are' : ' and every worker are'} ready` }
      : { type: 'Ready', status: 'False', reason: 'Waiting', message: `waiting for ${waitingFor.join(', ')}` },
    progressing
      ? { type: 'Progressing', status: 'True', reason: 'RollingOut', message: waitingFor.length ? `waiting for ${waitingFor.join(', ')}` : 'rolling out the latest change' }
      : { type: 'Progressing', status: 'False', reason: 'Stable', message: 'every role runs the latest change' },
    input.problems.length > 0
      ? { type: 'Degraded', status: 'True', reason: 'Problems', message: degradedMessage(input.problems) }
      : { type: 'Degraded', status: 'False', reason: 'NoProblems', message: 'nothing is failing' },
    input.paused
      ? { type: 'Paused', status: 'True', reason: 'Paused', message: 'changes are paused (spec.paused or the gatewaycluster.dev/paused annotation)' }
      : { type: 'Paused', status: 'False', reason: 'Active', message: 'changes are applied' },
    input.nodeLoss ?? quietNodeLoss(input.previous),
  ];
  return {
    observedGeneration: input.generation,
    conditions: mergeConditions(input.previous?.conditions as Condition[] | undefined, conditions, input.generation, input.now),
    register: { replicas: register.replicas, ready: register.ready },
    gateways: { replicas: gateways.replicas, ready: gateways.ready },
    workers: { replicas: workers.replicas, ready: workers.ready },
    ...(api ? { api: { replicas: api.replicas, ready: api.ready } } : {}),
    replicas: workers.replicas,
    selector: input.workerSelector,
    gatewaysReady: `${gateways.ready}/${gateways.replicas}`,
    workersReady: `${workers.ready}/${workers.replicas}`,
    address: input.address,
    registerAddress: input.registerAddress,
    ...(input.apiUrl ? { apiUrl: input.apiUrl } : {}),
    secretName: input.secretName,
  };
}
