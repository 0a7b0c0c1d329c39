import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assetPath } from '../../runtime/assets.js';
import { formatLogRecord } from '../../runtime/observability/log-format.js';
import { createLogger, MAX_LOGGED_DEPTH } from '../../runtime/observability/log.js';
import { deepSession } from '../harness/deep-json.js';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ role: 'test' }, 'debug', (line) => lines.push(line)) };
}

describe('the logger, given what a client sent', () => {
  it('logs a field nested past its limit, or circular, as a note instead of throwing, and the other fields as they are', () => {
    const { lines, log } = capture();
    const looped: Record<string, unknown> = {};
    looped.self = looped;
    log.info('deep', { clientId: 'c1', message: deepSession(200_000), looped, shallow: deepSession(MAX_LOGGED_DEPTH) });
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(record.clientId, 'c1');
    assert.match(String(record.message), new RegExp(`left out: nested deeper than ${MAX_LOGGED_DEPTH} levels`));
    assert.match(String(record.looped), /left out/);
    assert.deepEqual(record.shallow, deepSession(MAX_LOGGED_DEPTH), 'a field at the limit is logged whole');
  });

  it('still logs errors by name, message and stack', () => {
    const { lines, log } = capture();
    log.error('failed', { error: new TypeError('bad') });
    const record = JSON.parse(lines[0]!) as { error: { name: string; message: string; stack: string } };
    assert.equal(record.error.name, 'TypeError');
    assert.equal(record.error.message, 'bad');
    assert.match(record.error.stack, /TypeError: bad/);
  });

  it('has the depth limit the README states', () => {
    const readme = readFileSync(assetPath('README.md'), 'utf8').replace(/\s+/g, ' ');
    assert.ok(readme.includes(`log field nested deeper than ${MAX_LOGGED_DEPTH} levels`), `README.md states ${MAX_LOGGED_DEPTH}`);
  });
});

describe('a logged event', () => {
  it('is the last field of the JSON record, and left out of the text a person reads (it restates msg)', () => {
    const lines: string[] = [];
    createLogger({ role: 'gateway', name: 'gateway-1' }, 'info', (line) => lines.push(line)).info('worker connected', { logEvent: 'worker-connected', worker: 'worker-1' });
    assert.match(lines[0]!, /"msg":"worker connected","worker":"worker-1","logEvent":"worker-connected"\}\n$/, 'msg and its fields as before, the event last');
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    const { logEvent: _, ...withoutEvent } = record;
    assert.equal(formatLogRecord(record, false), formatLogRecord(withoutEvent, false));
    assert.match(formatLogRecord(record, false), /gateway\/gateway-1 +worker connected worker=worker-1\n$/);
  });
});
