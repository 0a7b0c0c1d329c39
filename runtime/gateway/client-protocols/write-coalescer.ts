import type { Writable } from 'node:stream';

const corked: Writable[] = [];

function uncorkAll(): void {
  for (const stream of corked) stream.uncork();
  corked.length = 0;
}

/**
 * Holds a client socket's writes until the current task ends, so several messages to one client produced in
 * one go (a batch of commands from a worker) leave in one system call instead of one each.
 */
export function coalesceWrites(stream: Writable): void {
  if (stream.writableCorked > 0 || stream.destroyed) return;
  stream.cork();
  if (corked.push(stream) === 1) process.nextTick(uncorkAll);
}
