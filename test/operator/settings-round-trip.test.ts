/**
 * The settings table is the one source: for every role, a spec holding a value other than the default in each field
 * the table gives it is built into the role's container, and the runtime's own loader, reading that environment,
 * gives back every value. The environment holds only variables the role's table knows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { desiredChildren, type GatewayClusterObject, type KubeObject } from '../../operator/builders/desired-children.js';
import { COMPONENTS, type Component } from '../../operator/builders/labels.js';
import { childNames } from '../../operator/builders/names.js';
import { API_VERSION, KIND } from '../../operator/spec/gateway-cluster-kind.js';
import { gatewayClusterSpec } from '../../operator/spec/gateway-cluster-spec.js';
import { ROLE_SETTINGS } from '../../runtime/config/role-settings.js';
import { loadSettings, type Setting } from '../../runtime/config/settings.js';
import { buildContext } from './build-context.js';

/** A valid value other than the default, from the field's JSON schema; `n` keeps numbers of one role apart. */
function sample(setting: Setting, n: number): unknown {
  const schema = z.toJSONSchema(setting.spec!.schema, { io: 'input' }) as { type?: string; enum?: string[]; default?: unknown; minimum?: number; exclusiveMinimum?: number; maximum?: number };
  if (schema.enum) return schema.enum.find((option) => option !== schema.default);
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const low = schema.minimum ?? schema.exclusiveMinimum ?? 0;
      const value = low + 1000 + n + (schema.type === 'number' ? 0.5 : 0);
      return schema.maximum !== undefined ? Math.min(value, schema.maximum - n) : value;
    }
    case 'string':
      return `text with $(POD_IP), $$ and "quotes" ${n}`;
    case 'array':
      return [`https://a${n}.example`, `https://b${n}.example`];
  }
  throw new Error(`no sample for ${setting.flag}: ${JSON.stringify(schema)}`);
}

const workloads: Record<Component, (name: string) => [kind: string, name: string]> = {
  register: (name) => ['Deployment', childNames(name).register],
  gateway: (name) => ['StatefulSet', childNames(name).gateway],
  worker: (name) => ['StatefulSet', childNames(name).worker],
  api: (name) => ['Deployment', childNames(name).api],
};

/** A pod's downward API values. */
const FIELDS: Record<string, string> = { 'status.podIP': '198.18.0.7', 'status.podIPs': '198.18.0.7', 'metadata.name': 'chat-x-0' };

/** What the kubelet gives the process: `$$` is `$`, `$(VAR)` the value of a variable defined before it. */
function expand(env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const variable of env) {
    if (variable.value === undefined) {
      out[variable.name] = FIELDS[variable.valueFrom!.fieldRef!.fieldPath]!;
      continue;
    }
    out[variable.name] = variable.value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) =>
      name === undefined ? '$' : (out[name] ?? whole),
    );
  }
  return out;
}

describe('the settings table, from spec to the runtime and back', () => {
  for (const component of COMPONENTS) {
    it(`${component}: every setting of its spec section reaches the runtime as written, and nothing the runtime does not read`, () => {
      const settings: Record<string, Setting> = ROLE_SETTINGS[component];
      const held = Object.entries(settings).filter(([, setting]) => setting.spec);
      assert.ok(held.length >= 1, `${component} has settings in its spec section`);
      const section = Object.fromEntries(held.map(([, setting], n) => [setting.spec!.field, sample(setting, n)]));
      const spec = gatewayClusterSpec.parse({ [component]: section });
      const cluster: GatewayClusterObject = { apiVersion: API_VERSION, kind: KIND, metadata: { name: 'chat', namespace: 'apps', uid: 'u' }, spec };
      const [kind, name] = workloads[component]('chat');
      const workload = desiredChildren(cluster, buildContext()).find((c: KubeObject) => c.kind === kind && c.metadata.name === name) as any;
      const env = workload.spec.template.spec.containers[0].env as Parameters<typeof expand>[0];

      const known = new Set(Object.values(settings).map((setting) => setting.env));
      const unknown = env.map((e) => e.name).filter((variable) => variable.startsWith('GWC_') && !known.has(variable));
      assert.deepEqual(unknown, [], `${component} gets variables its runtime does not read`);

      const loaded = loadSettings(component, settings, [], expand(env)) as Record<string, unknown>;
      for (const [key, setting] of held) {
        assert.deepEqual(loaded[key], section[setting.spec!.field], `${component}.${setting.spec!.field} → ${setting.env} → ${key}`);
      }
    });
  }

  it('takes a spec default of its own only where the table says why', () => {
    for (const component of COMPONENTS) {
      for (const setting of Object.values(ROLE_SETTINGS[component] as Record<string, Setting>)) {
        if (!setting.spec) continue;
        const runtimeDefault = setting.schema.safeParse(undefined);
        const specDefault = setting.spec.schema.safeParse(undefined);
        const same = runtimeDefault.success && specDefault.success && JSON.stringify(runtimeDefault.data ?? []) === JSON.stringify(specDefault.data ?? []);
        assert.ok(same || setting.spec.why, `${component} --${setting.flag}: runtime default ${JSON.stringify(runtimeDefault.data)}, spec default ${JSON.stringify(specDefault.data)}, no reason given`);
      }
    }
  });
});
