import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { podDnsEnv, ServiceDnsFile, serviceHostEntries } from './service-dns.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kubelet-dns-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const services: V1Service[] = [
  { metadata: { name: 'web', namespace: 'ns1' }, spec: { clusterIP: '10.0.0.5', selector: { app: 'web' } } },
  { metadata: { name: 'db', namespace: 'ns1' }, spec: { clusterIP: 'None', selector: { app: 'db' } } },
  { metadata: { name: 'all', namespace: 'ns1' }, spec: { clusterIP: 'None', selector: { app: 'web' }, publishNotReadyAddresses: true } },
  { metadata: { name: 'manual', namespace: 'ns1' }, spec: { clusterIP: '10.0.0.6' } },
];
const pod = (name: string, ip: string, labels: Record<string, string>, ready: boolean, extra: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { name, namespace: 'ns1', labels, ...extra.metadata },
  spec: { containers: [], ...extra.spec },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('the fake cluster DNS', () => {
  it('lists ready pods matching each Service by its FQDN, and headless pods with hostname and subdomain by theirs', () => {
    const entries = serviceHostEntries(services, [
      pod('web-a', '127.120.0.1', { app: 'web' }, true),
      pod('web-b', '127.120.0.2', { app: 'web' }, false),
      pod('web-c', '127.120.0.3', { app: 'web', extra: 'x' }, true),
      pod('web-gone', '127.120.0.5', { app: 'web' }, true, { metadata: { deletionTimestamp: new Date() } }),
      pod('db-0', '127.120.0.4', { app: 'db' }, true, { spec: { containers: [], hostname: 'db-0', subdomain: 'db' } }),
      pod('db-x', '127.120.0.6', { app: 'db' }, true, { spec: { containers: [], hostname: 'db-x', subdomain: 'other' } }),
      { ...pod('other-ns', '127.120.0.9', { app: 'web' }, true), metadata: { name: 'o', namespace: 'ns2', labels: { app: 'web' } } },
    ]);
    assert.deepEqual(entries, [
      ['127.120.0.1', 'all.ns1.svc.cluster.local'],
      ['127.120.0.1', 'web.ns1.svc.cluster.local'],
      ['127.120.0.2', 'all.ns1.svc.cluster.local'],
      ['127.120.0.3', 'all.ns1.svc.cluster.local'],
      ['127.120.0.3', 'web.ns1.svc.cluster.local'],
      ['127.120.0.4', 'db-0.db.ns1.svc.cluster.local'],
      ['127.120.0.4', 'db.ns1.svc.cluster.local'],
      ['127.120.0.6', 'db.ns1.svc.cluster.local'],
    ]);
  });

  it('the preload answers Service names with the pod\'s search domains, re-reads the file, and leaves other names alone', async () => {
    const file = new ServiceDnsFile(path.join(tmp, 'dns', 'hosts'));
    file.update([['127.120.0.1', 'web.ns1.svc.cluster.local'], ['127.120.0.3', 'web.ns1.svc.cluster.local'], ['127.120.0.4', 'db-0.db.ns1.svc.cluster.local'], ['127.120.0.4', 'db.ns1.svc.cluster.local']]);
    const client = { metadata: { name: 'client-0', namespace: 'ns1' }, spec: { containers: [], hostAliases: [{ ip: '127.120.0.77', hostnames: ['alias.example'] }] } };
    const env = { PATH: process.env.PATH ?? '', ...podDnsEnv(file.file, client, '127.120.0.50', undefined) };
    const script = `
      import dns from 'node:dns';
      import { lookup as namedLookup } from 'node:dns';
      import http from 'node:http';
      import { renameSync, writeFileSync } from 'node:fs';
      const out = {};
      const cb = (name, options) => new Promise((resolve) => dns.lookup(name, options ?? {}, (error, address) => resolve(error ? error.code : address)));
      out.short = await cb('db');
      out.ns = await cb('db.ns1');
      out.svc = await cb('db.ns1.svc');
      out.fqdn = await cb('db.ns1.svc.cluster.local');
      out.absolute = await cb('db.ns1.svc.cluster.local.');
      out.pod = await cb('db-0.db');
      out.podFqdn = (await dns.promises.lookup('db-0.db.ns1.svc')).address;
      out.all = (await dns.promises.lookup('web', { all: true })).map((a) => a.address);
      out.turns = [await cb('web'), await cb('web'), await cb('web')];
      out.v6 = await cb('web', { family: 6 });
      out.missing = await cb('nope.ns1.svc');
      out.missingFqdn = await dns.promises.lookup('nope.ns1.svc.cluster.local').catch((e) => e.code);
      out.self = await cb('client-0');
      out.alias = await cb('alias.example');
      out.localhost = await cb('localhost', { family: 4 });
      out.named = await new Promise((resolve) => namedLookup('db', (e, a) => resolve(a)));
      const server = http.createServer((q, r) => r.end('hi from db')).listen(8099, '127.120.0.4');
      await new Promise((resolve) => server.once('listening', resolve));
      out.http = await new Promise((resolve, reject) => http.get('http://db:8099/', (r) => { let b = ''; r.on('data', (c) => b += c); r.on('end', () => resolve(b)); }).on('error', reject));
      out.fetch = await (await fetch('http://db.ns1.svc:8099/')).text();
      server.close();
      writeFileSync(process.env.GWC_TEST_DNS_HOSTS_FILE + '.new', '127.120.0.8 db.ns1.svc.cluster.local\\n');
      renameSync(process.env.GWC_TEST_DNS_HOSTS_FILE + '.new', process.env.GWC_TEST_DNS_HOSTS_FILE);
      out.changed = await cb('db');
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 20_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(out, {
      short: '127.120.0.4',
      ns: '127.120.0.4',
      svc: '127.120.0.4',
      fqdn: '127.120.0.4',
      absolute: '127.120.0.4',
      pod: '127.120.0.4',
      podFqdn: '127.120.0.4',
      all: ['127.120.0.1', '127.120.0.3'],
      turns: ['127.120.0.3', '127.120.0.1', '127.120.0.3'],
      v6: 'ENOTFOUND',
      missing: 'ENOTFOUND',
      missingFqdn: 'ENOTFOUND',
      self: '127.120.0.50',
      alias: '127.120.0.77',
      localhost: '127.0.0.1',
      named: '127.120.0.4',
      http: 'hi from db',
      fetch: 'hi from db',
      changed: '127.120.0.8',
    });
  });
});
