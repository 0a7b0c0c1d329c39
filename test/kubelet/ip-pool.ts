/**
 * Test-only: the process kubelet's pod addresses. Every pod gets its own loopback address `<ipBase>.x.y` (Linux
 * routes all of 127.0.0.0/8 to the loopback interface, so any of them can be bound without setup).
 */

/** Hands out `<ipBase>.0.1`, `<ipBase>.0.2`, ... in order, never one that is still held, wrapping after `.255.254`. */
export class IpPool {
  private readonly held = new Set<string>();
  private next = 1;
  private static readonly SIZE = 256 * 256 - 2; // .0.1 ... .255.254

  constructor(readonly ipBase: string) {
    const parts = ipBase.split('.');
    if (parts.length !== 2 || parts[0] !== '127' || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) {
      throw new Error(`ipBase must be two octets of the loopback range like "127.101", got "${ipBase}"`);
    }
  }

  /** The node's own address, `<ipBase>.0.0`: never given to a pod. */
  get nodeIp(): string {
    return `${this.ipBase}.0.0`;
  }

  allocate(): string {
    for (let tries = 0; tries < IpPool.SIZE; tries++) {
      const n = this.next;
      this.next = n >= IpPool.SIZE ? 1 : n + 1;
      const ip = `${this.ipBase}.${n >> 8}.${n & 255}`;
      if (!this.held.has(ip)) {
        this.held.add(ip);
        return ip;
      }
    }
    throw new Error(`no free address left in ${this.ipBase}.0.0/16`);
  }

  release(ip: string): void {
    this.held.delete(ip);
  }

  isHeld(ip: string): boolean {
    return this.held.has(ip);
  }

  get size(): number {
    return this.held.size;
  }
}
