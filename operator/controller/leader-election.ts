import { EventEmitter } from 'node:events';
import { isConflict, isNotFound, type KubeClient } from '../kube/kube-client.js';
import { collectionPath, objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  /** How often the leader renews and the others try to take over. */
  retryPeriodMs?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Kubernetes MicroTime wants six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every retry period; a
 * lease not renewed for its duration may be taken by another candidate (writes carry the resourceVersion, so two
 * candidates cannot both win). Events: 'leading', 'lost' (the holder failed to renew in time: stop working).
 */
export class LeaderElection extends EventEmitter {
  leading = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
  }

  get durationMs(): number {
    return (this.options.leaseDurationSeconds ?? 15) * 1000;
  }

  start(): void {
    void this.tick();
  }

  /** Stops trying; a leader hands the lease back so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.read();
      if (lease?.spec.holderIdentity === this.options.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) };
        await this.write(lease);
      }
    } catch {
      // it expires on its own
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch {
      // an API error counts as a failed renewal; checked below
    }
    if (this.leading && Date.now() - this.lastRenew > this.durationMs) {
      this.leading = false;
      this.emit('lost');
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? 2000);
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new Date();
    const lease = await this.read();
    const { identity } = this.options;
    if (!lease) {
      await this.options.client.create(collectionPath(RESOURCE_TYPES.Lease, this.options.namespace), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: this.heldSpec(now, now, 0),
      });
      return this.acquired();
    }
    const spec = lease.spec;
    if (spec.holderIdentity === identity) {
      lease.spec = this.heldSpec(new Date(spec.acquireTime ?? now), now, spec.leaseTransitions ?? 0);
      await this.write(lease);
      return this.acquired();
    }
    const renewedAt = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = !spec.holderIdentity || renewedAt + (spec.leaseDurationSeconds ?? 15) * 1000 < now.getTime();
    if (!expired) return;
    lease.spec = this.heldSpec(now, now, (spec.leaseTransitions ?? 0) + 1);
    try {
      await this.write(lease);
    } catch (error) {
      if (isConflict(error)) return; // another candidate won this round
      throw error;
    }
    this.acquired();
  }

  private acquired(): void {
    this.lastRenew = Date.now();
    if (this.leading) return;
    this.leading = true;
    this.emit('leading');
  }

  private heldSpec(acquired: Date, renewed: Date, transitions: number): Lease['spec'] {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.options.leaseDurationSeconds ?? 15,
      acquireTime: microTime(acquired),
      renewTime: microTime(renewed),
      leaseTransitions: transitions,
    };
  }

  private path(): string {
    return objectPath(RESOURCE_TYPES.Lease, this.options.namespace, this.options.name);
  }

  private async read(): Promise<Lease | undefined> {
    try {
      return await this.options.client.get<Lease>(this.path());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async write(lease: Lease): Promise<void> {
    await this.options.client.request('PUT', this.path(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
  }
}
