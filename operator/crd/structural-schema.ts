import { z } from 'zod';

type Schema = Record<string, unknown>;

/**
 * A zod schema as a Kubernetes structural OpenAPI v3 schema: zod's OpenAPI 3.0 output minus what the API server
 * refuses or does not need (`$schema`, catch-all `additionalProperties` under preserved fields, JavaScript's
 * safe-integer bounds), with int-or-string unions in the shape Kubernetes expects.
 */
export function structuralSchema(schema: z.ZodType, io: 'input' | 'output'): Schema {
  return clean(z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'throw' }) as Schema);
}

function clean(node: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && value === false) continue; // Kubernetes prunes unknown fields anyway
    if ((key === 'maximum' || key === 'minimum') && Math.abs(value as number) === Number.MAX_SAFE_INTEGER) continue;
    out[key] = cleanValue(value);
  }
  if (out['x-kubernetes-preserve-unknown-fields']) {
    delete out.additionalProperties;
    delete out.properties;
  }
  if (out['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    const pattern = ((node.anyOf as Schema[] | undefined) ?? []).find((s) => s.pattern)?.pattern;
    if (pattern) out.pattern = pattern;
  }
  return out;
}

function cleanValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanValue);
  if (value && typeof value === 'object') return clean(value as Schema);
  return value;
}
