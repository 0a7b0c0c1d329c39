/**
 * Test-only: the environment variables through which the process kubelet tells its processes' DNS preload
 * (service-dns-preload.ts) where the Service names are. Kept apart so the kubelet can name them without loading the
 * preload itself.
 */

/** The hosts-style file (`<ip> <fqdn>` lines) the kubelet keeps from EndpointSlices. */
export const DNS_HOSTS_FILE_ENV = 'GWC_TEST_DNS_HOSTS_FILE';
/** The search domains of the pod, space-separated, as in its resolv.conf: `<ns>.svc.cluster.local svc.cluster.local cluster.local`. */
export const DNS_SEARCH_ENV = 'GWC_TEST_DNS_SEARCH';
/** JSON `{ "name": ["ip", ...] }` answered before the file, as /etc/hosts would be: the pod's own hostname, hostAliases. */
export const DNS_EXTRA_HOSTS_ENV = 'GWC_TEST_DNS_EXTRA_HOSTS';
/** The pid of the kubelet's process; the orphan guard ends the process when it is gone. */
export const KUBELET_PID_ENV = 'GWC_TEST_KUBELET_PID';

export const CLUSTER_DOMAIN = 'cluster.local';
/** The resolver's ndots in a pod's resolv.conf. */
export const NDOTS = 5;
