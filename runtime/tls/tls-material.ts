import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** PEM files, laid out as a mounted kubernetes.io/tls Secret has them: tls.crt, tls.key and (internal TLS) ca.crt. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string | undefined;
}

/** PEM contents, as node:tls takes them. */
export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer | undefined;
}

/** A certificate, key or CA that cannot be used; the message names the file (or the option) at fault. */
export class TlsMaterialError extends Error {}

export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  return { cert: readPem(files.cert), key: readPem(files.key), ...(files.ca !== undefined ? { ca: readPem(files.ca) } : {}) };
}

/**
 * Checks that the material makes a usable identity: the certificate, the key and the CA parse, and the key is the
 * certificate's. `names` say where each came from, for the error. Returns the certificate.
 */
export function checkTlsMaterial(material: TlsMaterial, names: { cert: string; key: string; ca?: string | undefined }): X509Certificate {
  const certificate = parse(`certificate ${names.cert}`, () => new X509Certificate(material.cert));
  const key = parse(`key ${names.key}`, () => createPrivateKey(material.key));
  if (!certificate.checkPrivateKey(key)) throw new TlsMaterialError(`key ${names.key} does not belong to certificate ${names.cert}`);
  if (material.ca !== undefined) parse(`CA certificate ${names.ca ?? 'ca'}`, () => new X509Certificate(material.ca!));
  parse(`certificate ${names.cert} with key ${names.key}`, () => createSecureContext(material));
  return certificate;
}

/** What the logs say about a certificate in use. */
export function describeCertificate(certificate: X509Certificate): { subject: string; serial: string; validTo: string } {
  return { subject: certificate.subject.replaceAll('\n', ', '), serial: certificate.serialNumber, validTo: certificate.validTo };
}

function readPem(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TlsMaterialError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function parse<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw new TlsMaterialError(`invalid ${what}: ${(error as Error).message}`);
  }
}
