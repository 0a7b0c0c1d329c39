import { z } from 'zod';
import { valueNestedDeeperThan } from '../../runtime/json/json-depth.js';

/**
 * How deep a Kubernetes object the spec passes through may nest (affinity, the deepest, needs 9 levels). The API server
 * keeps such fields as they are, at any depth it parses; the operator copies and compares them recursively, so a deeper
 * one is refused as an invalid spec naming its field rather than overflowing the operator's stack on every reconcile.
 */
export const MAX_PASSED_THROUGH_DEPTH = 32;

/**
 * Kubernetes types the spec passes through to pods unchanged (tolerations, affinity, env sources, ...): the API
 * server keeps their fields as they are and validates them where they land, in the pod template.
 */
export const kubeObject = () =>
  z
    .record(z.string(), z.unknown())
    .refine((value) => !valueNestedDeeperThan(value, MAX_PASSED_THROUGH_DEPTH), `nested deeper than ${MAX_PASSED_THROUGH_DEPTH} levels`)
    .meta({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });

export const stringMap = () => z.record(z.string(), z.string());

/** A resource quantity: "500m", "128Mi" or a number. */
export const quantity = z.union([z.number().int(), z.string().regex(/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[numkMGTPE]i?|Ki)?$/)]).meta({
  'x-kubernetes-int-or-string': true,
});

export const resources = z
  .object({
    requests: z.record(z.string(), quantity).optional(),
    limits: z.record(z.string(), quantity).optional(),
  })
  .describe('CPU and memory requests and limits for the containers of this role');

export const port = z.number().int().min(1).max(65535);

export const name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a lowercase DNS name');
