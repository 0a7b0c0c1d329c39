import type { Gauge } from 'prom-client';
import type { Logger } from '../observability/log.js';
import { ReconnectingPeer, type DialOptions } from '../wire/reconnecting-peer.js';
import { Role } from '../wire/types.js';

export interface RegisterAnnouncerOptions {
  /** The Registers: the gateway announces itself to each. */
  registers: readonly string[];
  /** The internal address announced: workers and API clients dial it. */
  address: string;
  dial: DialOptions;
  /** Registers the gateway is announced to now. */
  connected: Gauge;
  log: Logger;
}

/** Keeps a link to each Register and announces the gateway's internal address over it, again after every reconnect. */
export class RegisterAnnouncer {
  private readonly links: ReconnectingPeer[] = [];

  constructor(private readonly options: RegisterAnnouncerOptions) {}

  start(): void {
    const { address, log } = this.options;
    for (const register of this.options.registers) {
      const link = new ReconnectingPeer(register, Role.Register, this.options.dial);
      link.on('ready', () => {
        link.send({ announce: { address } });
        this.countConnected();
        log.info('announced to register', { logEvent: 'announced', register, address });
      });
      link.on('down', () => this.countConnected());
      this.links.push(link.start());
    }
  }

  /** Leaves every Register: the gateway gets no new workers or API clients through them. */
  stop(reason: string): void {
    for (const link of this.links) link.stop(reason);
  }

  private countConnected(): void {
    this.options.connected.set(this.links.filter((link) => link.ready).length);
  }
}
