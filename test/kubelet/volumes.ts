/**
 * Test-only: the process kubelet's volumes. Processes share the host's file system, so a volume is a folder under
 * the pod's folder (`<podDir>/volumes/<name>`), filled as the kubelet would fill the mount (ConfigMap and Secret keys
 * as files, with `items`, `mode`, `defaultMode` and `optional`; downwardAPI files; projected volumes; emptyDir
 * empty; hostPath is the host path itself).
 *
 * A container cannot see the folder at its mountPath, so the mount is emulated by rewriting paths: any command
 * word, arg or env value that starts with a mountPath (equal to it, or followed by `/`), or any `--flag=<value>` /
 * `NAME=<value>` whose value does, is rewritten to the volume folder (see {@link rewritePath}). A program that opens
 * a mounted path it did not get through its command line or env will not find it.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1ConfigMap, V1Container, V1KeyToPath, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { fieldRefValue, resourceFieldRefValue, type PodRuntimeInfo } from './downward-api.js';
import type { ConfigSource } from './env-resolver.js';

export interface VolumeSource extends ConfigSource {
  /** A token for the pod's service account (TokenRequest bound to the pod). */
  requestToken(namespace: string, serviceAccount: string, request: { audience?: string; expirationSeconds?: number; podName: string; podUid: string }): Promise<string>;
}

/** A volume cannot be set up yet (the kubelet's FailedMount: the pod stays ContainerCreating and is retried). */
export class VolumeError extends Error {}

export interface MaterializedVolumes {
  /** Volume name → the host folder that stands for it. */
  dirs: Map<string, string>;
  /** Problems that did not stop the pod (the automatic service account volume is set up as far as it can be). */
  warnings: string[];
}

/** A mountPath and the host path standing for it. */
export interface PathMapping {
  mountPath: string;
  hostPath: string;
}

const DEFAULT_MODE = 0o644;

/** Creates every volume of the pod under `<podDir>/volumes`. Throws VolumeError when one cannot be set up. */
export async function materializeVolumes(pod: V1Pod, podDir: string, source: VolumeSource, info: PodRuntimeInfo): Promise<MaterializedVolumes> {
  const dirs = new Map<string, string>();
  const warnings: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.hostPath) {
      dirs.set(volume.name, volume.hostPath.path);
      continue;
    }
    const dir = path.join(podDir, 'volumes', safeName(volume.name));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      await fillVolume(pod, volume, dir, source, info);
    } catch (error) {
      const message = `MountVolume.SetUp failed for volume "${volume.name}": ${error instanceof Error ? error.message : String(error)}`;
      // The API server adds `kube-api-access-*` on its own; its CA may not be published by this test control plane.
      if (volume.name.startsWith('kube-api-access-') && volume.projected) warnings.push(message);
      else throw new VolumeError(message);
    }
    dirs.set(volume.name, dir);
  }
  return { dirs, warnings };
}

async function fillVolume(pod: V1Pod, volume: V1Volume, dir: string, source: VolumeSource, info: PodRuntimeInfo): Promise<void> {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (volume.emptyDir) return;
  if (volume.configMap) {
    const { name, items, optional, defaultMode } = volume.configMap;
    await writeConfigMap(dir, namespace, name!, items, optional, defaultMode, source);
    return;
  }
  if (volume.secret) {
    const { secretName, items, optional, defaultMode } = volume.secret;
    await writeSecret(dir, namespace, secretName!, items, optional, defaultMode, source);
    return;
  }
  if (volume.downwardAPI) {
    for (const item of volume.downwardAPI.items ?? []) {
      await writeItem(dir, item.path, downwardValue(pod, item, info), item.mode ?? volume.downwardAPI.defaultMode);
    }
    return;
  }
  if (volume.projected) {
    const defaultMode = volume.projected.defaultMode;
    for (const projection of volume.projected.sources ?? []) {
      if (projection.configMap) {
        const { name, items, optional } = projection.configMap;
        await writeConfigMap(dir, namespace, name!, items, optional, defaultMode, source);
      } else if (projection.secret) {
        const { name, items, optional } = projection.secret;
        await writeSecret(dir, namespace, name!, items, optional, defaultMode, source);
      } else if (projection.downwardAPI) {
        for (const item of projection.downwardAPI.items ?? []) {
          await writeItem(dir, item.path, downwardValue(pod, item, info), item.mode ?? defaultMode);
        }
      } else if (projection.serviceAccountToken) {
        const { audience, expirationSeconds, path: tokenPath } = projection.serviceAccountToken;
        const token = await source.requestToken(namespace, pod.spec?.serviceAccountName || 'default', {
          ...(audience ? { audience } : {}),
          ...(expirationSeconds ? { expirationSeconds } : {}),
          podName: pod.metadata?.name ?? '',
          podUid: pod.metadata?.uid ?? '',
        });
        await writeItem(dir, tokenPath, token, defaultMode ?? 0o600);
      } else {
        throw new Error(`projected source ${Object.keys(projection).join(',')} is not supported by the process kubelet`);
      }
    }
    return;
  }
  const kind = Object.keys(volume).filter((key) => key !== 'name').join(',') || 'unknown';
  throw new Error(`volume type ${kind} is not supported by the process kubelet`);
}

function downwardValue(pod: V1Pod, item: { fieldRef?: { fieldPath: string }; resourceFieldRef?: { containerName?: string; resource: string; divisor?: string } }, info: PodRuntimeInfo): string {
  if (item.fieldRef) return fieldRefValue(pod, item.fieldRef.fieldPath, info);
  if (item.resourceFieldRef) return resourceFieldRefValue(pod, undefined, item.resourceFieldRef, info);
  throw new Error('downwardAPI item has neither fieldRef nor resourceFieldRef');
}

async function writeConfigMap(dir: string, namespace: string, name: string, items: V1KeyToPath[] | undefined, optional: boolean | undefined,
  defaultMode: number | undefined, source: VolumeSource): Promise<void> {
  const configMap: V1ConfigMap | undefined = await source.getConfigMap(namespace, name);
  if (!configMap) {
    if (optional) return;
    throw new Error(`configmap "${name}" not found`);
  }
  const data = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(configMap.data ?? {})) data.set(key, Buffer.from(value, 'utf8'));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data.set(key, Buffer.from(value, 'base64'));
  await writeKeys(dir, data, items, optional, defaultMode, `ConfigMap ${namespace}/${name}`);
}

async function writeSecret(dir: string, namespace: string, name: string, items: V1KeyToPath[] | undefined, optional: boolean | undefined,
  defaultMode: number | undefined, source: VolumeSource): Promise<void> {
  const secret: V1Secret | undefined = await source.getSecret(namespace, name);
  if (!secret) {
    if (optional) return;
    throw new Error(`secret "${name}" not found`);
  }
  const data = new Map<string, Buffer>();
  for (const [key, value] of Object.entries(secret.data ?? {})) data.set(key, Buffer.from(value, 'base64'));
  await writeKeys(dir, data, items, optional, defaultMode, `Secret ${namespace}/${name}`);
}

async function writeKeys(dir: string, data: Map<string, Buffer>, items: V1KeyToPath[] | undefined, optional: boolean | undefined,
  defaultMode: number | undefined, what: string): Promise<void> {
  if (!items || items.length === 0) {
    for (const [key, value] of data) await writeItem(dir, key, value, defaultMode);
    return;
  }
  for (const item of items) {
    const value = data.get(item.key);
    if (value === undefined) {
      if (optional) continue;
      throw new Error(`${what} has no key "${item.key}"`);
    }
    await writeItem(dir, item.path, value, item.mode ?? defaultMode);
  }
}

async function writeItem(dir: string, relative: string, content: string | Buffer, mode: number | undefined): Promise<void> {
  const target = path.resolve(dir, relative);
  if (path.isAbsolute(relative) || !target.startsWith(dir + path.sep)) throw new Error(`item path "${relative}" leaves the volume`);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content, { mode: mode ?? DEFAULT_MODE });
  await chmod(target, mode ?? DEFAULT_MODE); // whatever the umask

}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The path mappings of a container's volumeMounts, longest mountPath first (so a mount inside another wins).
 * Throws VolumeError for a mount of an unknown volume.
 */
export function mountMappings(container: V1Container, dirs: Map<string, string>): PathMapping[] {
  const mappings: PathMapping[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const dir = dirs.get(mount.name);
    if (dir === undefined) throw new VolumeError(`volumeMount "${mount.name}" names no volume of the pod`);
    if (mount.subPathExpr) throw new VolumeError(`volumeMount "${mount.name}": subPathExpr is not supported by the process kubelet`);
    const mountPath = mount.mountPath.length > 1 ? mount.mountPath.replace(/\/+$/, '') : mount.mountPath;
    const hostPath = mount.subPath ? path.join(dir, mount.subPath) : dir;
    if (mount.subPath && !hostPath.startsWith(dir)) throw new VolumeError(`volumeMount "${mount.name}": subPath leaves the volume`);
    mappings.push({ mountPath, hostPath });
  }
  return mappings.sort((a, b) => b.mountPath.length - a.mountPath.length);
}

/**
 * Rewrites a command word, arg or env value that names a path inside a mount: `/etc/cfg/app.json` with
 * `/etc/cfg` mounted becomes `<volume folder>/app.json`. Also rewrites the value part of `--flag=/etc/cfg/...`
 * and `NAME=/etc/cfg/...`. Anything else is returned unchanged.
 */
export function rewritePath(value: string, mappings: readonly PathMapping[]): string {
  const whole = rewriteWhole(value, mappings);
  if (whole !== undefined) return whole;
  const eq = value.indexOf('=');
  if (eq > 0) {
    const rest = rewriteWhole(value.slice(eq + 1), mappings);
    if (rest !== undefined) return value.slice(0, eq + 1) + rest;
  }
  return value;
}

function rewriteWhole(value: string, mappings: readonly PathMapping[]): string | undefined {
  for (const { mountPath, hostPath } of mappings) {
    if (value === mountPath) return hostPath;
    const prefix = mountPath === '/' ? '/' : `${mountPath}/`;
    if (value.startsWith(prefix)) return path.join(hostPath, value.slice(prefix.length));
  }
  return undefined;
}
