import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject } from '../kube/kube-client.js';
import { collectionPath, RESOURCE_TYPES } from '../kube/resource-paths.js';

export type EventType = 'Normal' | 'Warning';

/** What an event is about: any object, by kind, name and uid. */
export type InvolvedObject = Pick<KubeObject, 'apiVersion' | 'kind'> & { metadata: { name: string; namespace?: string; uid?: string } };

/** Writes core/v1 Events about a GatewayCluster; a failure to record one is logged, never thrown. */
export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly onError: (error: Error) => void,
    private readonly component = 'gateway-cluster-operator',
  ) {}

  async record(object: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const namespace = object.metadata.namespace ?? 'default';
    try {
      await this.client.create(collectionPath(RESOURCE_TYPES.Event, namespace), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${object.metadata.name}.${randomBytes(6).toString('hex')}`, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          namespace,
          uid: object.metadata.uid,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (error) {
      this.onError(error as Error);
    }
  }
}
