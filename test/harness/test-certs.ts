import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openssl } from '../control-plane/pki.js';

/** A certificate as a kubernetes.io/tls Secret holds it (cert-manager adds ca.crt): a folder with the three files. */
export interface IssuedCert {
  dir: string;
  cert: string;
  key: string;
  ca: string;
}

/**
 * A throwaway certificate authority in `dir`, made with the openssl CLI (Node can make keys but not certificates).
 * EC keys: much faster to generate than RSA.
 */
export class TestCa {
  readonly cert: string;
  private readonly key: string;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.cert = path.join(dir, `${name}.crt`);
    this.key = path.join(dir, `${name}.key`);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', this.key], dir);
    openssl(['req', '-x509', '-new', '-key', this.key, '-subj', `/CN=${name}`, '-days', '2', '-out', this.cert], dir);
  }

  /** A certificate for `commonName` valid for the given IPs and DNS names (as server and as client), in `<dir>/<folder>/`. */
  issue(folder: string, commonName: string, ips: string[] = ['127.0.0.1'], names: string[] = []): IssuedCert {
    const out = path.join(this.dir, folder);
    mkdirSync(out, { recursive: true });
    const file = (name: string) => path.join(out, name);
    const altNames = [...ips.map((ip) => `IP:${ip}`), ...names.map((name) => `DNS:${name}`)];
    writeFileSync(file('ext.cnf'), `subjectAltName=${altNames.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'tls.key'], out);
    openssl(['req', '-new', '-key', 'tls.key', '-subj', `/CN=${commonName}`, '-out', 'tls.csr'], out);
    openssl(['x509', '-req', '-in', 'tls.csr', '-CA', this.cert, '-CAkey', this.key, '-CAcreateserial', '-days', '2',
      '-extfile', 'ext.cnf', '-out', 'tls.crt'], out);
    copyFileSync(this.cert, file('ca.crt'));
    return { dir: out, cert: file('tls.crt'), key: file('tls.key'), ca: file('ca.crt') };
  }
}
