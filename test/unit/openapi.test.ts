import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { apiMethods } from '../../runtime/http-api/api-methods.js';
import { openApiPath, renderOpenApi } from '../../runtime/http-api/write-openapi.js';
import { cliPath } from '../harness/role-process.js';

describe('the HTTP API\'s OpenAPI document', () => {
  it('is what the request schemas generate (run `npm run openapi` after changing runtime/api)', () => {
    assert.equal(readFileSync(openApiPath, 'utf8'), renderOpenApi(), `${openApiPath} is stale: run npm run openapi`);
  });

  it('has one POST path per Gateway API method, plus batch, each with its arguments', () => {
    const document = JSON.parse(renderOpenApi()) as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { type: string } }> } } }> };
    assert.deepEqual(Object.keys(document.paths).sort(), [...Object.keys(apiMethods), 'batch'].map((name) => `/v1/${name}`).sort());
    for (const [route, { post }] of Object.entries(document.paths)) {
      assert.equal(post.requestBody.content['application/json']!.schema.type, 'object', route);
    }
  });
});

describe('gwc api settings', () => {
  for (const [what, env, message] of [
    ['no key at all', {}, /no API key given/],
    ['a short key', { GWC_API_KEY: 'short' }, /shorter than 16/],
    ['a key file that is not there', { GWC_API_KEY_FILE: '/nonexistent/keys' }, /--api-key-file/],
  ] as const) {
    it(`refuses to start with ${what}: exit 2 and one line`, () => {
      const result = spawnSync(process.execPath, [cliPath, 'api', '--metrics-port', '0'], {
        env: { PATH: process.env.PATH, GWC_SECRET: 'a-secret-of-enough-length', ...env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    });
  }
});
