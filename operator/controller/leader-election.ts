import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../runtime/observability/log.js';
import { isConflict, isNotFound, type KubeClient } from '../kube/kube-client.js';
import { collectionPath, objectPath, RESOURCE_TYPES } from '../kube/resource-paths.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  /** Says why a renewal, an attempt to take the lease, or the hand-back failed. */
  log: Logger;
  /** How long a lease nobody renews stays taken, as the other candidates see it. */
  leaseDurationSeconds?: number;
  /** How long the leader goes on working without a successful renewal; shorter than the lease duration. */
  renewDeadlineSeconds?: number;
  /** How often the leader renews and the others look at the lease. */
  retryPeriodMs?: number;
  /** A monotonic clock in milliseconds (performance.now by default): wall-clock jumps move no deadline. */
  now?: () => number;
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

export const DEFAULT_LEASE_SECONDS = 15;
export const DEFAULT_RENEW_DEADLINE_SECONDS = 10;

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it, built so that two leaders never overlap:
 *
 * - The leader's time runs out `renewDeadline` after it *sent* its last successful renewal, on its own monotonic
 *   clock. Every request it makes while leading times out before then (`remainingMs`), and once it passes, the
 *   leader stops ('lost') without another write. The renewal reached the API server after it was sent, so this
 *   is always before anyone else can take the lease.
 * - The others never read the holder's timestamps (another machine's clock): they take the lease only once it
 *   has not changed for its whole duration since they themselves saw it change, on their own monotonic clock.
 * - Writes carry the resourceVersion, so two candidates cannot both take it.
 *
 * Events: 'leading', 'lost'.
 */
export class LeaderElection extends EventEmitter {
  leading = false;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Monotonic time at which the last successful renewal (or acquisition) was sent. */
  private renewedAt = 0;
  /** The lease as last seen, and when (monotonic) it was first seen like that. */
  private observed: { record: string; at: number } | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.now = options.now ?? (() => performance.now());
    this.leaseMs = (options.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? DEFAULT_RENEW_DEADLINE_SECONDS) * 1000;
    if (this.renewDeadlineMs >= this.leaseMs) throw new Error('the renew deadline must be shorter than the lease duration');
  }

  /**
   * While leading: how long any request may still take, in ms. Not leading, or past the deadline: 0 or less, and
   * nothing may be written.
   */
  remainingMs(): number {
    return this.leading ? this.renewedAt + this.renewDeadlineMs - this.now() : 0;
  }

  start(): void {
    void this.tick();
  }

  /** Stops trying; a leader still in time hands the lease back so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    const inTime = this.remainingMs() > 0;
    this.leading = false;
    if (!inTime) return;
    try {
      const lease = await this.read(this.renewDeadlineMs);
      if (lease?.spec.holderIdentity === this.options.identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) };
        await this.write(lease, this.renewDeadlineMs);
      }
    } catch (error) {
      this.options.log.warn('could not hand the leader lease back; it expires on its own', { lease: this.leaseName(), error: (error as Error).message });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped || !this.checkDeadline()) return;
    const leading = this.leading;
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      // Tried again after the retry period; a leader's renew deadline decides whether it goes on meanwhile.
      const fields = { lease: this.leaseName(), error: (error as Error).message };
      if (leading) this.options.log.warn('could not renew the leader lease', { ...fields, remainingMs: Math.round(this.remainingMs()) });
      else this.options.log.warn('could not take the leader lease', fields);
    }
    if (this.stopped || !this.checkDeadline()) return;
    this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? 2000);
  }

  /** False (and 'lost' emitted) once a leader's renew deadline has passed. */
  private checkDeadline(): boolean {
    if (!this.leading || this.remainingMs() > 0) return true;
    this.leading = false;
    clearTimeout(this.timer);
    clearTimeout(this.deadlineTimer);
    this.emit('lost');
    return false;
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { identity } = this.options;
    // While leading, the renewal must be done before the deadline; otherwise a candidate waits as long as it takes.
    const budget = this.leading ? this.remainingMs() : this.renewDeadlineMs;
    const lease = await this.read(budget);
    if (!lease) {
      const sentAt = this.now();
      const now = new Date();
      await this.options.client.create(collectionPath(RESOURCE_TYPES.Lease, this.options.namespace), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: this.heldSpec(now, now, 0),
      });
      return this.renewed(sentAt);
    }
    const spec = lease.spec;
    if (spec.holderIdentity === identity && this.leading) {
      lease.spec = this.heldSpec(new Date(spec.acquireTime ?? Date.now()), new Date(), spec.leaseTransitions ?? 0);
      const sentAt = this.now();
      await this.write(lease, this.remainingMs());
      return this.renewed(sentAt);
    }
    if (!this.mayTake(lease)) return;
    lease.spec = this.heldSpec(new Date(), new Date(), (spec.leaseTransitions ?? 0) + 1);
    const sentAt = this.now();
    try {
      await this.write(lease, this.renewDeadlineMs);
    } catch (error) {
      if (isConflict(error)) return; // another candidate won this round
      throw error;
    }
    this.renewed(sentAt);
  }

  /**
   * A candidate may take a lease held by nobody, or one that has not changed for its whole duration since this
   * process saw it change, counted on this process's clock. A lease naming us that we do not hold (we restarted)
   * counts as anyone else's.
   */
  private mayTake(lease: Lease): boolean {
    const { holderIdentity, renewTime, acquireTime, leaseTransitions, leaseDurationSeconds } = lease.spec;
    if (!holderIdentity) return true;
    const record = JSON.stringify([holderIdentity, renewTime, acquireTime, leaseTransitions, leaseDurationSeconds]);
    const now = this.now();
    if (this.observed?.record !== record) {
      this.observed = { record, at: now };
      return false;
    }
    return now - this.observed.at > (leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
  }

  private renewed(sentAt: number): void {
    this.renewedAt = sentAt;
    this.observed = undefined;
    clearTimeout(this.deadlineTimer);
    // Fires even while a renewal hangs: the leader stops on time whatever its requests do.
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), this.remainingMs() + 1);
    this.deadlineTimer.unref();
    if (this.leading) return;
    this.leading = true;
    this.emit('leading');
  }

  private heldSpec(acquired: Date, renewed: Date, transitions: number): Lease['spec'] {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseMs / 1000,
      acquireTime: microTime(acquired),
      renewTime: microTime(renewed),
      leaseTransitions: transitions,
    };
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private path(): string {
    return objectPath(RESOURCE_TYPES.Lease, this.options.namespace, this.options.name);
  }

  private async read(timeoutMs: number): Promise<Lease | undefined> {
    try {
      return await this.options.client.request<Lease>('GET', this.path(), undefined, undefined, timeoutMs);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async write(lease: Lease, timeoutMs: number): Promise<void> {
    await this.options.client.request('PUT', this.path(), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease }, undefined, timeoutMs);
  }
}
