/**
 * Test-only: a container's environment as the kubelet builds it (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
 * service link variables, then `envFrom` (ConfigMaps and Secrets, with prefix and `optional`), then `env` in order,
 * each `value` `$(VAR)`-expanded against the variables defined before it and the service variables, `valueFrom` from
 * the downward API, ConfigMap keys and Secret keys. A missing required ConfigMap, Secret or key is a
 * {@link ContainerConfigError} (the container waits with CreateContainerConfigError and is retried).
 */
import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { fieldRefValue, resourceFieldRefValue, type PodRuntimeInfo } from './downward-api.js';
import { expand, mappingFor } from './expansion.js';

/** Reads ConfigMaps and Secrets; resolves undefined when the object does not exist. */
export interface ConfigSource {
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
}

/** The container cannot be configured yet (the kubelet's CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

export interface EnvContext {
  pod: V1Pod;
  container: V1Container;
  info: PodRuntimeInfo;
  source: ConfigSource;
  /** The Services of the pod's namespace, for the `<SVC>_SERVICE_HOST` style variables (when enableServiceLinks). */
  services?: readonly V1Service[];
  /** Services always linked whatever enableServiceLinks says (the kubelet's `kubernetes` master service). */
  masterServices?: readonly V1Service[];
}

/** The variables of the container, in the kubelet's order of precedence. */
export async function resolveEnv(ctx: EnvContext): Promise<Record<string, string>> {
  const { pod, container, info, source } = ctx;
  const namespace = pod.metadata?.namespace ?? 'default';
  const linked = pod.spec?.enableServiceLinks === false ? [] : (ctx.services ?? []);
  const serviceEnv = serviceLinkEnv([...linked, ...(ctx.masterServices ?? [])]);
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const ref = from.configMapRef;
      const configMap = await source.getConfigMap(namespace, ref.name!);
      if (!configMap) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      for (const [key, value] of Object.entries(configMap.data ?? {})) setIfValidName(env, prefix + key, value);
    } else if (from.secretRef) {
      const ref = from.secretRef;
      const secret = await source.getSecret(namespace, ref.name!);
      if (!secret) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      for (const [key, value] of Object.entries(secret.data ?? {})) setIfValidName(env, prefix + key, decodeBase64(value));
    }
  }

  for (const envVar of container.env ?? []) {
    const { name, valueFrom } = envVar;
    if (!valueFrom) {
      const value = envVar.value ?? '';
      env.set(name, value === '' ? '' : expand(value, mappingFor(env, serviceEnv)));
      continue;
    }
    if (valueFrom.fieldRef) {
      env.set(name, fieldRefValue(pod, valueFrom.fieldRef.fieldPath, info));
    } else if (valueFrom.resourceFieldRef) {
      env.set(name, resourceFieldRefValue(pod, container.name, valueFrom.resourceFieldRef, info));
    } else if (valueFrom.configMapKeyRef) {
      const ref = valueFrom.configMapKeyRef;
      const configMap = await source.getConfigMap(namespace, ref.name!);
      if (!configMap) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const value = configMap.data?.[ref.key] ?? (configMap.binaryData?.[ref.key] === undefined ? undefined : decodeBase64(configMap.binaryData[ref.key]!));
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
      }
      env.set(name, value);
    } else if (valueFrom.secretKeyRef) {
      const ref = valueFrom.secretKeyRef;
      const secret = await source.getSecret(namespace, ref.name!);
      if (!secret) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const raw = secret.data?.[ref.key];
      if (raw === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
      }
      env.set(name, decodeBase64(raw));
    } else {
      throw new ContainerConfigError(`env var ${name}: unsupported valueFrom ${JSON.stringify(valueFrom)}`);
    }
  }

  for (const [key, value] of serviceEnv) if (!env.has(key)) env.set(key, value);
  return Object.fromEntries(env);
}

/** Expands `$(VAR)` in command and args with the container's final environment. */
export function expandCommand(values: readonly string[] | undefined, env: Record<string, string>): string[] | undefined {
  if (!values) return undefined;
  const lookup = mappingFor(env);
  return values.map((value) => expand(value, lookup));
}

/** The kubelet's service link variables (pkg/kubelet/envvars): `WEB_SERVICE_HOST`, `WEB_PORT_8080_TCP_ADDR`, ... */
export function serviceLinkEnv(services: readonly V1Service[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const service of services) {
    const clusterIP = service.spec?.clusterIP;
    const ports = service.spec?.ports ?? [];
    if (!clusterIP || clusterIP === 'None' || ports.length === 0) continue;
    const prefix = (service.metadata?.name ?? '').replaceAll('-', '_').toUpperCase();
    env.set(`${prefix}_SERVICE_HOST`, clusterIP);
    env.set(`${prefix}_SERVICE_PORT`, String(ports[0]!.port));
    for (const port of ports) {
      if (port.name) env.set(`${prefix}_SERVICE_PORT_${port.name.replaceAll('-', '_').toUpperCase()}`, String(port.port));
    }
    ports.forEach((port, i) => {
      const protocol = (port.protocol ?? 'TCP').toLowerCase();
      const hostPort = clusterIP.includes(':') ? `[${clusterIP}]:${port.port}` : `${clusterIP}:${port.port}`;
      if (i === 0) env.set(`${prefix}_PORT`, `${protocol}://${hostPort}`);
      const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
      env.set(portPrefix, `${protocol}://${hostPort}`);
      env.set(`${portPrefix}_PROTO`, protocol);
      env.set(`${portPrefix}_PORT`, String(port.port));
      env.set(`${portPrefix}_ADDR`, clusterIP);
    });
  }
  return env;
}

export function decodeBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/** envFrom keys that cannot be env var names are skipped, as the kubelet does (it reports them in an event). */
function setIfValidName(env: Map<string, string>, name: string, value: string): void {
  if (name !== '' && !name.includes('=') && !name.includes('\0')) env.set(name, value);
}
