/**
 * Test-only: the process kubelet's side of the fake cluster DNS (see service-dns-preload.ts). It keeps a hosts-style
 * file of the Services it watches, computed as the EndpointSlice controller and cluster DNS would from the Services'
 * selectors and the Pods they match (EndpointSlices cannot be used: the API server refuses loopback addresses in
 * them, so the controller leaves them empty):
 * - `<svc>.<ns>.svc.cluster.local` → the IP of each ready, non-terminating matching pod (all of them with
 *   publishNotReadyAddresses). For ClusterIP Services too: there is no kube-proxy, so the name leads straight to
 *   the pods; a Service's port must therefore equal its targetPort, ports are not translated;
 * - `<hostname>.<svc>.<ns>.svc.cluster.local` → the pod's IP for headless Services whose pods have that hostname and
 *   `subdomain: <svc>` (StatefulSet pods with `serviceName`).
 * The short forms (`<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`) come from each pod's search domains in the preload.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { CLUSTER_DOMAIN, DNS_EXTRA_HOSTS_ENV, DNS_HOSTS_FILE_ENV, DNS_SEARCH_ENV, KUBELET_PID_ENV } from './service-dns-names.js';

export const dnsPreloadPath = fileURLToPath(new URL('./service-dns-preload.js', import.meta.url));
export const orphanGuardPreloadPath = fileURLToPath(new URL('./orphan-guard-preload.js', import.meta.url));

function podReady(pod: V1Pod): boolean {
  return !!pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** The `[ip, fqdn]` pairs for these Services and Pods (sorted, without duplicates). */
export function serviceHostEntries(services: readonly V1Service[], pods: readonly V1Pod[]): Array<[string, string]> {
  const entries = new Set<string>();
  for (const service of services) {
    const selector = service.spec?.selector;
    const namespace = service.metadata?.namespace;
    const name = service.metadata?.name;
    if (!selector || Object.keys(selector).length === 0 || service.spec?.type === 'ExternalName') continue;
    const fqdn = `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
    const headless = service.spec?.clusterIP === 'None';
    for (const pod of pods) {
      const ip = pod.status?.podIP;
      if (!ip || pod.metadata?.namespace !== namespace || pod.metadata?.deletionTimestamp) continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      if (!Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value)) continue;
      if (!podReady(pod) && !service.spec?.publishNotReadyAddresses) continue;
      entries.add(`${ip} ${fqdn}`);
      if (headless && pod.spec?.hostname && pod.spec.subdomain === name) entries.add(`${ip} ${pod.spec.hostname}.${fqdn}`);
    }
  }
  return [...entries].sort().map((line) => line.split(' ') as [string, string]);
}

export function formatHostsFile(entries: ReadonlyArray<readonly [string, string]>): string {
  return `# process kubelet (test fake of cluster DNS): ready endpoints of Services\n${entries.map(([ip, name]) => `${ip} ${name}\n`).join('')}`;
}

/** The hosts file, rewritten (atomically, by rename) only when its content changes. */
export class ServiceDnsFile {
  private content = '';

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.write(formatHostsFile([]));
  }

  update(entries: ReadonlyArray<readonly [string, string]>): boolean {
    return this.write(formatHostsFile(entries));
  }

  private write(content: string): boolean {
    if (content === this.content) return false;
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, content);
    renameSync(temporary, this.file);
    this.content = content;
    return true;
  }
}

/** A pod's search domains, as in its resolv.conf. */
export function searchDomains(namespace: string): string[] {
  return [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
}

/** Names a pod resolves by itself, as the kubelet writes them to its /etc/hosts: its hostname and hostAliases. */
export function podExtraHosts(pod: V1Pod, podIP: string): Record<string, string[]> {
  const hosts: Record<string, string[]> = {};
  const add = (name: string, ip: string) => {
    const key = name.toLowerCase();
    hosts[key] = [...(hosts[key] ?? []), ip];
  };
  const hostname = pod.spec?.hostname || pod.metadata?.name;
  if (hostname) {
    add(hostname, podIP);
    if (pod.spec?.subdomain) add(`${hostname}.${pod.spec.subdomain}.${pod.metadata?.namespace}.svc.${CLUSTER_DOMAIN}`, podIP);
  }
  for (const alias of pod.spec?.hostAliases ?? []) for (const name of alias.hostnames ?? []) add(name, alias.ip);
  return hosts;
}

/**
 * The env that makes a Node process use the fake DNS and the orphan guard. `NODE_OPTIONS` the container already has
 * is kept after the preloads.
 */
export function podDnsEnv(hostsFile: string, pod: V1Pod, podIP: string, nodeOptions: string | undefined): Record<string, string> {
  const imports = [dnsPreloadPath, orphanGuardPreloadPath].map((file) => `--import=${pathToFileURL(file).href}`).join(' ');
  return {
    NODE_OPTIONS: nodeOptions ? `${imports} ${nodeOptions}` : imports,
    [DNS_HOSTS_FILE_ENV]: hostsFile,
    [DNS_SEARCH_ENV]: searchDomains(pod.metadata?.namespace ?? 'default').join(' '),
    [DNS_EXTRA_HOSTS_ENV]: JSON.stringify(podExtraHosts(pod, podIP)),
    [KUBELET_PID_ENV]: String(process.pid),
  };
}
