import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Pki {
  caCert: string;
  /** The CA's key: the kubelet's serving certificate is signed with it too. */
  caKey: string;
  servingCert: string;
  servingKey: string;
  /** What the API server presents to kubelets (logs, exec): a client certificate of the same CA. */
  kubeletClientCert: string;
  kubeletClientKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** The user the API server's kubelet client certificate names. */
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';

export function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throwaway CA, an API server serving certificate for loopback (and `extraIps`), a client certificate for the API
 * server to reach kubelets with, and the service-account signing key, made with the openssl CLI (Node can make keys
 * but not certificates). EC keys: much faster to generate than RSA.
 */
export function createPki(dir: string, extraIps: string[] = []): Pki {
  const file = (name: string) => path.join(dir, name);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=gwc-test-ca', '-days', '30', '-out', 'ca.crt'], dir);
  const ips = ['127.0.0.1', '10.0.0.1', ...extraIps].map((ip) => `IP:${ip}`);
  const names = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'].map((name) => `DNS:${name}`);
  issue(dir, 'apiserver', '/CN=kube-apiserver', `subjectAltName=${[...ips, ...names].join(',')}\nextendedKeyUsage=serverAuth\n`);
  issue(dir, 'kubelet-client', `/CN=${APISERVER_KUBELET_CLIENT}`, 'extendedKeyUsage=clientAuth\n');
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key'], dir);
  openssl(['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return pkiPaths(dir);
}

/** Where createPki put everything in `dir`. */
export function pkiPaths(dir: string): Pki {
  const file = (name: string) => path.join(dir, name);
  return {
    caCert: file('ca.crt'),
    caKey: file('ca.key'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    kubeletClientCert: file('kubelet-client.crt'),
    kubeletClientKey: file('kubelet-client.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPub: file('sa.pub'),
  };
}

/** `<name>.crt` and `<name>.key` in `dir`, signed by the CA there (ca.crt, ca.key), with the given extensions. */
export function issue(dir: string, name: string, subject: string, extensions: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30',
    '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
}
