/** The wire's TypeScript shapes, generated from runtime/proto/gwc.proto into proto-types.ts, and helpers for them. */
import type * as Proto from './proto-types.js';

export * from './proto-types.js';

/** Which member of an Envelope's oneof: 'hello', 'event', 'reply'... */
export type EnvelopeKind = keyof Proto.Envelope;

export function toNumber(value: Proto.Uint64 | undefined | null): number {
  if (value === undefined || value === null) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
