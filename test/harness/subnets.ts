import { createServer, type Server } from 'node:net';

/**
 * Loopback subnets for process tests and the bench: their processes bind 127.0.S.x, S claimed here so that no two
 * processes running at the same time (two test files under --test-concurrency=2, a bench, or another checkout's
 * tests on this machine) use the same S. A claim is an abstract Unix socket named after S: the kernel lets one
 * process bind it at a time and frees it when that process exits, however it exits, so a crashed test leaves nothing
 * claimed.
 */
export interface Subnet {
  /** The third octet. */
  readonly subnet: number;
  /** 127.0.S.host */
  ip(host: number): string;
  /** Gives S back (it is given back anyway when this process exits). */
  release(): Promise<void>;
}

/** Handed out by claimSubnet: above every number a test file picked by hand before these claims existed. */
export const CLAIMED_SUBNETS = { first: 100, last: 249 } as const;

/** A free subnet of CLAIMED_SUBNETS, starting the search at a random one so claims rarely meet. */
export async function claimSubnet(): Promise<Subnet> {
  const { first, last } = CLAIMED_SUBNETS;
  const count = last - first + 1;
  const offset = Math.floor(Math.random() * count);
  for (let i = 0; i < count; i++) {
    const claim = await tryClaim(first + ((offset + i) % count));
    if (claim) return claim;
  }
  throw new Error(`every subnet from 127.0.${first}.x to 127.0.${last}.x is claimed by running test processes`);
}

/**
 * Subnet `subnet`, picked by hand (the older `subnet: N` of a TestCluster): waits while another test process holds
 * it rather than sharing it, and fails after `timeoutMs`.
 */
export async function claimThisSubnet(subnet: number, timeoutMs = 120_000): Promise<Subnet> {
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > 254) throw new Error(`subnet ${subnet}: not a third octet from 1 to 254`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const claim = await tryClaim(subnet);
    if (claim) return claim;
    if (Date.now() > deadline) throw new Error(`subnet 127.0.${subnet}.x stayed claimed by another test process for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function tryClaim(subnet: number): Promise<Subnet | undefined> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    // A leading NUL puts the name in Linux's abstract namespace: no file, gone with the process.
    server.listen({ path: `\0gateway-cluster-test-subnet-${subnet}` }, () => {
      server.unref(); // a claim does not keep the test process alive
      resolve(held(subnet, server));
    });
  });
}

function held(subnet: number, server: Server): Subnet {
  return {
    subnet,
    ip: (host) => `127.0.${subnet}.${host}`,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
