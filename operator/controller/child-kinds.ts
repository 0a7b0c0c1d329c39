import { MANAGED_BY } from '../builders/desired-children.js';
import type { Informer } from './informer.js';

/** The label selector of every child, by which they are watched. */
export const MANAGED_BY_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;

/** The kinds of a GatewayCluster's children (and their pods), watched by the managed-by label to reconcile their owner. */
export const WATCHED_CHILD_KINDS = ['Deployment', 'StatefulSet', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler', 'Pod'] as const;

/** Watched as well where the API server serves it (its CRD comes with the Prometheus operator). */
export const SERVICE_MONITOR = 'ServiceMonitor';

export type ChildKind = (typeof WATCHED_CHILD_KINDS)[number] | typeof SERVICE_MONITOR;

export type ChildInformers = Record<(typeof WATCHED_CHILD_KINDS)[number], Informer> & { [SERVICE_MONITOR]?: Informer };

/**
 * The kinds of children only some specs ask for, deleted once the spec no longer does (of Deployments and Services,
 * the HTTP API's only). The register, gateway and worker workloads and Services are never deleted.
 */
export const OPTIONAL_CHILD_KINDS = ['PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler', SERVICE_MONITOR, 'Deployment', 'Service'] as const satisfies readonly ChildKind[];
