/** The fields of a role's spec section that come from the runtime's settings table (runtime/config). */
import type { z } from 'zod';
import type { SettingSpecs, SpecSetting } from '../../runtime/config/settings.js';

export type SpecFieldsOf<S extends SettingSpecs> = {
  [K in keyof S as S[K] extends SpecSetting<infer F> ? F : never]: S[K] extends SpecSetting<string, infer Schema> ? Schema : never;
};

/** Each setting a spec holds, under its field name, with its type, range, default and help. */
export function specFields<S extends SettingSpecs>(settings: S): SpecFieldsOf<S> {
  const shape: Record<string, z.ZodType> = {};
  for (const setting of Object.values(settings)) if (setting.spec) shape[setting.spec.field] = setting.spec.schema;
  return shape as SpecFieldsOf<S>;
}
