/**
 * The kinds of value a setting can hold, each stated once for both places it is written: as text (a flag or an
 * environment variable, read by the runtime) and as JSON (a GatewayCluster spec field, which the CRD is generated
 * from). A setting made with one of these has the same type, range and default in both.
 */
import { z } from 'zod';

export interface SettingValue<Out = unknown, Spec extends z.ZodType = z.ZodType> {
  /** Reads the text of a flag or environment variable (undefined: not given). */
  text: z.ZodType<Out, unknown>;
  /** The JSON a spec holds. */
  spec: Spec;
  /** The text that `text` reads back as the spec's value. */
  toText(value: z.output<Spec>): string;
  /** The default, when there is one. */
  fallback: z.output<Spec> | undefined;
}

/** A number read from text; a blank value is an error, where z.coerce alone would read it as 0. */
export function numeric<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? Number.NaN : value), schema);
}

/** The items of a comma-separated value, trimmed; empty ones (and an empty value) give none. */
export function commaSeparated(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean);
}

/** Comma-separated text read as `list` (`fallback` when not given): the one way a list is written as text. */
export function commaList<T extends z.ZodType<unknown, string>>(list: z.ZodArray<T>, fallback = '') {
  return z.string().default(fallback).transform(commaSeparated).pipe(list);
}

/** A port as text; 0 (any free port) included. */
export const portSchema = numeric(z.coerce.number().int().min(0).max(65535));

interface Bounds {
  min?: number;
  max?: number;
  /** Strictly greater than this (a positive duration: above 0). */
  above?: number;
}

function bounded<T extends z.ZodNumber | z.ZodCoercedNumber<unknown>>(schema: T, bounds: Bounds): T {
  let out = schema;
  if (bounds.min !== undefined) out = out.min(bounds.min) as T;
  if (bounds.max !== undefined) out = out.max(bounds.max) as T;
  if (bounds.above !== undefined) out = out.gt(bounds.above) as T;
  return out;
}

function numberValue(integer: boolean, bounds: Bounds, fallback: number | undefined) {
  const spec = bounded(integer ? z.number().int() : z.number(), bounds);
  const textSchema = numeric(bounded(integer ? z.coerce.number().int() : z.coerce.number(), bounds));
  return {
    text: fallback === undefined ? textSchema.optional() : textSchema.default(fallback),
    spec: fallback === undefined ? spec.optional() : spec.default(fallback),
    toText: (value: number | undefined) => String(value),
    fallback,
  };
}

type NumberValue = SettingValue<number, z.ZodDefault<z.ZodNumber>>;
type OptionalNumberValue = SettingValue<number | undefined, z.ZodOptional<z.ZodNumber>>;

/** A whole number: `integer({ min: 0 }, 10)`; without a default it is optional. */
export function integer(bounds: Bounds, fallback: number): NumberValue;
export function integer(bounds: Bounds): OptionalNumberValue;
export function integer(bounds: Bounds, fallback?: number): NumberValue | OptionalNumberValue {
  return numberValue(true, bounds, fallback) as NumberValue | OptionalNumberValue;
}

/** A number, such as seconds: `decimal({ above: 0 }, 30)`. */
export function decimal(bounds: Bounds, fallback: number): NumberValue;
export function decimal(bounds: Bounds): OptionalNumberValue;
export function decimal(bounds: Bounds, fallback?: number): NumberValue | OptionalNumberValue {
  return numberValue(false, bounds, fallback) as NumberValue | OptionalNumberValue;
}

/** A port. The runtime also takes 0 (any free port), which only makes sense outside Kubernetes. */
export function port(fallback: number): NumberValue {
  return {
    text: portSchema.default(fallback) as z.ZodType<number>,
    spec: z.number().int().min(1).max(65535).default(fallback),
    toText: (value) => String(value),
    fallback,
  };
}

export function oneOf<const T extends readonly [string, ...string[]]>(options: T, fallback: T[number]) {
  const value = {
    text: z.enum(options).default(fallback as never) as z.ZodType<T[number]>,
    spec: z.enum(options).default(fallback as never),
    toText: (chosen: T[number]) => chosen,
    fallback,
  };
  return value satisfies SettingValue<T[number], typeof value.spec>;
}

export function text(fallback: string): SettingValue<string, z.ZodDefault<z.ZodString>>;
export function text(): SettingValue<string | undefined, z.ZodOptional<z.ZodString>>;
export function text(fallback?: string): SettingValue<string, z.ZodDefault<z.ZodString>> | SettingValue<string | undefined, z.ZodOptional<z.ZodString>> {
  return {
    text: fallback === undefined ? z.string().optional() : z.string().default(fallback),
    spec: fallback === undefined ? z.string().optional() : z.string().default(fallback),
    toText: (value: string | undefined) => value ?? '',
    fallback,
  } as SettingValue<string, z.ZodDefault<z.ZodString>>;
}

/** A list: comma-separated as text, an array in a spec; each item matches `item` and holds no comma. */
export function list(item: z.ZodString): SettingValue<string[], z.ZodOptional<z.ZodArray<z.ZodString>>> {
  const element = item.regex(/^[^,\s]+$/, 'one item, without commas or spaces');
  return {
    text: commaList(z.array(element)) as unknown as z.ZodType<string[]>,
    spec: z.array(element).optional(),
    toText: (value) => (value ?? []).join(','),
    fallback: undefined,
  };
}
