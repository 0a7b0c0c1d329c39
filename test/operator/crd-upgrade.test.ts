/**
 * Upgrading from the previous chart: `helm upgrade` leaves a CRD in crds/ as it was (Helm installs those once), so
 * the README's upgrade step applies the new one with kubectl first. The previous chart is this one at version
 * 0.0.9 with the CRD as it was before spec.api and spec.gateway.autoscaling existed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import yaml from 'js-yaml';
import { GROUP, PLURAL } from '../../operator/spec/gateway-cluster-kind.js';
import { crdPath } from '../../operator/crd/write-crd.js';
import { chartDir, packageChart } from '../chart/package-chart.js';
import { OperatorFixture } from './operator-fixture.js';

const ns = 'upgrade';
const crdName = `${PLURAL}.${GROUP}`;

/** The chart as the previous release shipped it. */
function previousChart(into: string): string {
  const dir = path.join(into, 'gateway-cluster');
  cpSync(chartDir, dir, { recursive: true, dereference: true });
  writeFileSync(path.join(dir, 'Chart.yaml'), readFileSync(path.join(dir, 'Chart.yaml'), 'utf8').replace(/^version: .*$/m, 'version: 0.0.9'));
  const crd = yaml.load(readFileSync(crdPath, 'utf8')) as any;
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  delete spec.properties.api;
  delete spec.properties.gateway.properties.autoscaling;
  writeFileSync(path.join(dir, 'crds', path.basename(crdPath)), yaml.dump(crd));
  return dir;
}

describe('upgrading the chart from the previous version', () => {
  let fixture: OperatorFixture;
  let work: string;

  before(async () => {
    fixture = await OperatorFixture.start({ installCrd: false });
    work = mkdtempSync(path.join(tmpdir(), 'gwc-upgrade-'));
  });

  after(async () => {
    await fixture?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const specProperties = async () => {
    const crd = await fixture.read(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`);
    return crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
  };

  it('takes the new CRD with the README\'s kubectl step, and clusters made before get its defaults', async () => {
    fixture.helm('install', 'gwc', previousChart(work), '-n', ns, '--create-namespace', '--set', 'replicaCount=1');
    await fixture.waitForCrd(crdName);
    assert.equal((await specProperties()).api, undefined, 'the previous CRD');
    await fixture.createCluster(ns, 'old', { worker: { replicas: 2 } });

    const archive = packageChart();
    fixture.helm('upgrade', 'gwc', archive, '-n', ns, '--set', 'replicaCount=1');
    assert.equal((await specProperties()).api, undefined, 'helm upgrade alone leaves the CRD as it was');

    // The README's upgrade step.
    fixture.kubectl('apply', '--server-side', '--force-conflicts', '-f', crdPath);
    await fixture.waitForCrd(crdName);
    assert.ok((await specProperties()).api, 'the new CRD');
    const old = await fixture.getCluster(ns, 'old');
    assert.equal(old.spec.worker.replicas, 2, 'what the cluster had');
    assert.equal(old.spec.api?.enabled, true, 'the new field\'s default, on a cluster made before');
    await fixture.createCluster(ns, 'new', { gateway: { autoscaling: { enabled: true, maxReplicas: 3 } } });
    assert.equal((await fixture.getCluster(ns, 'new')).spec.gateway.autoscaling.maxReplicas, 3, 'kept, not pruned');
    rmSync(path.dirname(archive), { recursive: true, force: true });
  });
});
