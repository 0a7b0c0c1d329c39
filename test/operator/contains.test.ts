import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstDifference } from '../../operator/controller/contains.js';
import { quantityValue } from '../../operator/controller/quantity.js';

describe('firstDifference (is what we would apply already there?)', () => {
  it('ignores what the server added, and finds what differs', () => {
    const live = { spec: { replicas: 2, extra: true, template: { ports: [{ port: 80, protocol: 'TCP' }] } } };
    assert.equal(firstDifference(live, { spec: { replicas: 2, template: { ports: [{ port: 80 }] } } }), undefined);
    assert.equal(firstDifference(live, { spec: { replicas: 3 } }), '.spec.replicas');
    assert.equal(firstDifference(live, { spec: { template: { ports: [{ port: 80 }, { port: 81 }] } } }), '.spec.template.ports (length)');
    assert.equal(firstDifference(live, { spec: { missing: 'x' } }), '.spec.missing');
  });

  it('takes an omitted zero value as equal to zero, and int-or-string numbers as equal to their text', () => {
    assert.equal(firstDifference({ probe: {} }, { probe: { initialDelaySeconds: 0, enabled: false } }), undefined);
    assert.equal(firstDifference({ port: '8080' }, { port: 8080 }), undefined);
    assert.equal(firstDifference({ probe: {} }, { probe: { initialDelaySeconds: 5 } }), '.probe.initialDelaySeconds');
  });

  it('compares resource quantities by value, only where they are quantities', () => {
    const live = { spec: { resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1536Mi' } } }, image: '1Gi' };
    assert.equal(firstDifference(live, { spec: { resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1.5Gi' } } } }), undefined);
    assert.equal(firstDifference(live, { spec: { resources: { requests: { cpu: '0.6' } } } }), '.spec.resources.requests.cpu');
    assert.equal(firstDifference(live, { image: '1024Mi' }), '.image');
  });
});

describe('quantityValue', () => {
  it('reads Kubernetes quantities', () => {
    assert.equal(quantityValue('500m'), 0.5);
    assert.equal(quantityValue('2'), 2);
    assert.equal(quantityValue('1Ki'), 1024);
    assert.equal(quantityValue('1e3'), 1000);
    assert.equal(quantityValue('1.5G'), 1.5e9);
    assert.equal(quantityValue('lots'), undefined);
    assert.equal(quantityValue('1Gb'), undefined);
  });
});
