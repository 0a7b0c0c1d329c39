import type { z } from 'zod';

/** True only for a value the schema accepts and would give back unchanged. */
export type AsIsCheck = (value: unknown) => boolean;

/**
 * A check compiled from a zod schema, for the request hot path (loops rather than every/some and Object.keys: no
 * closure or array made per value checked, and a batch checks each of its calls' arguments): true only when the schema accepts the value as it is
 * (its output would be the same value), so the value can be used without zod; false means "ask zod", which accepts it
 * or names what is wrong. Undefined for a schema with a part it cannot judge (a transform, a superRefine, a kind not
 * handled here): such a schema always goes through zod. It never says true where zod would refuse: each kind it knows
 * is checked as strictly as zod checks it, or more.
 */
export function acceptsAsIs(schema: z.ZodType): AsIsCheck | undefined {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  const refinements = refinementsOf(def.checks);
  if (refinements === undefined) return undefined;
  const base = baseCheck(def);
  if (base === undefined) return undefined;
  if (refinements.length === 0) return base;
  return (value) => {
    if (!base(value)) return false;
    for (const fn of refinements) if (fn(value) !== true) return false;
    return true;
  };
}

interface Def {
  type: string;
  checks?: Array<{ _zod: { def: { check: string; minimum?: number; maximum?: number; fn?: (value: unknown) => unknown; abort?: boolean } } }>;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
}

/** The `.refine` functions of a schema, after its length checks are taken into its base check; undefined for anything else. */
function refinementsOf(checks: Def['checks']): Array<(value: unknown) => unknown> | undefined {
  const fns: Array<(value: unknown) => unknown> = [];
  for (const check of checks ?? []) {
    const { check: kind, fn } = check._zod.def;
    if (kind === 'min_length' || kind === 'max_length') continue;
    // A superRefine is a custom check without a function of the value: it cannot be judged here.
    if (kind !== 'custom' || typeof fn !== 'function') return undefined;
    fns.push(fn);
  }
  return fns;
}

function lengthBounds(checks: Def['checks']): { min: number; max: number } {
  let min = 0;
  let max = Infinity;
  for (const check of checks ?? []) {
    const { check: kind, minimum, maximum } = check._zod.def;
    if (kind === 'min_length') min = Math.max(min, minimum ?? 0);
    if (kind === 'max_length') max = Math.min(max, maximum ?? Infinity);
  }
  return { min, max };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function baseCheck(def: Def): AsIsCheck | undefined {
  switch (def.type) {
    case 'string': {
      const { min, max } = lengthBounds(def.checks);
      return (value) => typeof value === 'string' && value.length >= min && value.length <= max;
    }
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'null':
      return (value) => value === null;
    case 'unknown':
      return () => true;
    case 'optional': {
      const inner = acceptsAsIs(def.innerType!);
      return inner && ((value) => value === undefined || inner(value));
    }
    case 'nullable': {
      const inner = acceptsAsIs(def.innerType!);
      return inner && ((value) => value === null || inner(value));
    }
    case 'union': {
      const options = def.options!.map(acceptsAsIs);
      if (options.some((option) => option === undefined)) return undefined;
      return (value) => {
        for (const option of options) if (option!(value)) return true;
        return false;
      };
    }
    case 'array': {
      const element = acceptsAsIs(def.element!);
      const { min, max } = lengthBounds(def.checks);
      return (
        element &&
        ((value) => {
          if (!Array.isArray(value) || value.length < min || value.length > max) return false;
          for (const item of value) if (!element(item)) return false;
          return true;
        })
      );
    }
    case 'record': {
      // Only string keys with no rule of their own: every key of a JSON object is one.
      const keyDef = (def.keyType as unknown as { _zod: { def: Def } })._zod.def;
      const values = acceptsAsIs(def.valueType!);
      if (keyDef.type !== 'string' || (keyDef.checks?.length ?? 0) > 0 || values === undefined) return undefined;
      // Values of any kind (a batch's calls' arguments, checked afterwards by their method): no value to walk.
      if ((def.valueType as unknown as { _zod: { def: Def } })._zod.def.type === 'unknown') return isPlainObject;
      return (value) => {
        if (!isPlainObject(value)) return false;
        for (const key in value) if (Object.hasOwn(value, key) && !values(value[key])) return false;
        return true;
      };
    }
    case 'object': {
      // Strict objects only (anything else drops or passes keys zod's output would not have as they are).
      if ((def.catchall as unknown as { _zod: { def: Def } } | undefined)?._zod.def.type !== 'never') return undefined;
      const keys = Object.keys(def.shape!);
      const checks = keys.map((key) => acceptsAsIs(def.shape![key]!));
      if (checks.some((check) => check === undefined)) return undefined;
      const known = new Set(keys);
      return (value) => {
        if (!isPlainObject(value)) return false;
        for (const key in value) if (Object.hasOwn(value, key) && !known.has(key)) return false;
        for (let i = 0; i < keys.length; i++) if (!checks[i]!(Object.hasOwn(value, keys[i]!) ? value[keys[i]!] : undefined)) return false;
        return true;
      };
    }
    default:
      return undefined;
  }
}
