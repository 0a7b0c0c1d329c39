import { childNames } from '../builders/desired-children.js';
import type { KubeObject } from '../kube/kube-client.js';
import type { ChildInformers } from './child-kinds.js';

/** The pods labelled as the cluster's, from the cache. */
export function clusterPods(children: ChildInformers, namespace: string, name: string): KubeObject[] {
  return children.Pod.items().filter((pod) => pod.metadata.namespace === namespace && pod.metadata.labels?.['app.kubernetes.io/instance'] === name);
}

/**
 * Made by one of the cluster's own workloads: its gateway or worker StatefulSet (by uid), or a ReplicaSet of its
 * Register or HTTP API Deployment. Labels alone could be copied onto any pod.
 */
export function madeByWorkload(children: ChildInformers, pod: KubeObject, cluster: string): boolean {
  const names = childNames(cluster);
  const namespace = pod.metadata.namespace!;
  const owner = pod.metadata.ownerReferences?.find((ref) => ref.controller);
  if (owner?.kind === 'StatefulSet') {
    return [names.gateway, names.worker].some((sts) => children.StatefulSet.get(namespace, sts)?.metadata.uid === owner.uid);
  }
  const hash = pod.metadata.labels?.['pod-template-hash'];
  return owner?.kind === 'ReplicaSet' && hash !== undefined && [names.register, names.api].some((deployment) => owner.name === `${deployment}-${hash}`);
}
