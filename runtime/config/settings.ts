import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commaList, numeric, type SettingValue } from './setting-values.js';

/** One configurable value: a flag (--kebab-case), an environment variable, a zod schema with its default. */
export interface Setting<T extends z.ZodType = z.ZodType> {
  flag: string;
  env: string;
  schema: T;
  help: string;
  /** Set when a GatewayCluster spec holds it too: the field of the role's section and how it is written there. */
  spec?: SpecField;
  /** The default in words, where it depends on the machine (a host name). */
  defaultInWords?: string;
}

export interface SpecField<F extends string = string, S extends z.ZodType = z.ZodType> {
  field: F;
  /** The field's schema: the value's type, range and default. */
  schema: S;
  toText(value: unknown): string;
  /** Why its default differs from the runtime's, when it does. */
  why?: string | undefined;
}

/** A setting that a GatewayCluster spec holds too. */
export type SpecSetting<F extends string = string, S extends z.ZodType = z.ZodType> = Setting & { spec: SpecField<F, S> };

export type SettingSpecs = Record<string, Setting>;
export type SettingValues<S extends SettingSpecs> = { [K in keyof S]: z.output<S[K]['schema']> };

/** A bad setting: the message is one line naming it, for the user rather than a stack trace. */
export class ConfigError extends Error {}

export function setting<T extends z.ZodType>(flag: string, env: string, schema: T, help: string, defaultInWords?: string): Setting<T> {
  return { flag, env, schema, help, ...(defaultInWords ? { defaultInWords } : {}) };
}

/** The value a setting has when it is not given (throws for one without a default). */
export function defaultOf<T extends z.ZodType>(spec: Setting<T>): z.output<T> {
  return spec.schema.parse(undefined);
}

export interface SpecOptions<F extends string, Spec> {
  /** The field in the role's section of the spec. */
  field: F;
  /** A default on Kubernetes other than the runtime's, and why it differs (shown in the README's table). */
  specDefault?: { value: Spec; why: string };
}

/**
 * A setting a GatewayCluster spec holds as well: the runtime reads it as text, the spec as JSON, both from `value`
 * (one type, range and default), and the operator sets the environment variable from the spec field.
 */
export function specSetting<T, S extends z.ZodType, const F extends string>(
  flag: string,
  env: string,
  value: SettingValue<T, S>,
  help: string,
  options: SpecOptions<F, z.output<S>>,
): Setting<z.ZodType<T>> & { spec: SpecField<F, S> } {
  const withSpecDefault = options.specDefault ? withoutDefault(value.spec).default(options.specDefault.value as never) : value.spec;
  return {
    flag,
    env,
    schema: value.text,
    help,
    spec: { field: options.field, schema: withSpecDefault.describe(help) as unknown as S, toText: value.toText as (v: unknown) => string, why: options.specDefault?.why },
  };
}

function withoutDefault(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return schema.unwrap() as z.ZodType;
  return schema;
}

/** true or false, as text. */
export const bool = z.enum(['true', 'false']).transform((value) => value === 'true');
export const positiveInt = numeric(z.coerce.number().int().positive());
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const logLevelSchema = z.enum(LOG_LEVELS);
export const addressSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):\d{1,5}$/, 'expected host:port (IPv6 as [addr]:port)');

/** Comma-separated host:port addresses; empty gives an empty list. */
export const addressListSchema = commaList(z.array(addressSchema));

/** Flags win over environment variables, which win over defaults. */
export function loadSettings<S extends SettingSpecs>(
  role: string,
  specs: S,
  argv: string[],
  env: NodeJS.ProcessEnv,
): SettingValues<S> {
  const options: Record<string, { type: 'string' }> = {};
  for (const spec of Object.values(specs)) options[spec.flag] = { type: 'string' };
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof flags;
  } catch (error) {
    throw new ConfigError(`${role}: ${(error as Error).message.split('\n')[0]}`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = flags[spec.flag] ?? emptyToUndefined(env[spec.env]);
    const result = spec.schema.safeParse(raw);
    if (!result.success) {
      const shown = raw === undefined ? 'missing' : JSON.stringify(raw);
      const why = result.error.issues[0]?.message ?? 'invalid';
      throw new ConfigError(`${role}: invalid setting --${spec.flag} (${spec.env}) = ${shown}: ${why}`);
    }
    values[key] = result.data;
  }
  return values as SettingValues<S>;
}

export function helpText(role: string, summary: string, specs: SettingSpecs): string {
  const lines = [`Usage: gwc ${role} [options]`, '', summary, '', 'Options (each also read from its environment variable):'];
  for (const spec of Object.values(specs)) {
    const fallback = spec.schema.safeParse(undefined);
    const value = fallback.success && fallback.data !== undefined ? String(fallback.data) : ''; // an empty list shows as ''
    const shown = value === '' ? '' : ` (default: ${value})`;
    lines.push(`  --${spec.flag.padEnd(26)} ${spec.env.padEnd(28)} ${spec.help}${shown}`);
  }
  return lines.join('\n') + '\n';
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The fewest characters a shared secret or an API key may have: each is a password no person ever types. */
export const MIN_SECRET_LENGTH = 16;

/** The shared secret, from --secret or from a file (a mounted Kubernetes Secret). */
export function resolveSecret(role: string, secret: string | undefined, secretFile: string | undefined): Buffer {
  const value = readSecret(role, { flag: 'secret', env: 'GWC_SECRET', value: secret }, { flag: 'secret-file', env: 'GWC_SECRET_FILE', value: secretFile });
  if (value === undefined) throw new ConfigError(`${role}: missing setting --secret (GWC_SECRET) or --secret-file (GWC_SECRET_FILE)`);
  return value;
}

interface SecretSource {
  flag: string;
  env: string;
  value: string | undefined;
}

/** A secret given as a value or as a file (the value wins), at least MIN_SECRET_LENGTH characters; undefined: neither. */
export function readSecret(role: string, given: SecretSource, file: SecretSource): Buffer | undefined {
  let value = given.value;
  if (value === undefined && file.value !== undefined) {
    try {
      value = readFileSync(file.value, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`${role}: cannot read --${file.flag} (${file.env}) ${file.value}: ${(error as Error).message}`);
    }
  }
  if (value === undefined) return undefined;
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError(`${role}: invalid setting --${given.flag} (${given.env}): must be at least ${MIN_SECRET_LENGTH} characters`);
  return Buffer.from(value, 'utf8');
}
