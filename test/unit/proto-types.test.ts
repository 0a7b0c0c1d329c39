/** The wire's TypeScript shapes are generated from gwc.proto, and the roles' permitted messages are read from it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { protoTypesSource } from '../../runtime/wire/proto-types-source.js';
import { flowsOf } from '../../runtime/wire/role-messages.js';
import { Role } from '../../runtime/wire/types.js';
import { protoTypesPath, renderProtoTypes } from '../../runtime/wire/write-proto-types.js';

/** A .proto of its own, parsed as proto-schema.ts parses gwc.proto. */
function generated(source: string): string {
  const { root } = protobuf.parse(source, new protobuf.Root(), { alternateCommentMode: true });
  root.resolveAll();
  return protoTypesSource(root, 'sample', 'a test');
}

describe('runtime/wire/proto-types.ts', () => {
  it('is what gwc.proto generates (run `npm run proto-types` after changing the .proto)', () => {
    assert.equal(readFileSync(protoTypesPath, 'utf8'), renderProtoTypes(), `${protoTypesPath} is stale: run npm run proto-types`);
  });

  it('gives each field its TypeScript type, optional, named as protobufjs names it', () => {
    const source = generated(`syntax = "proto3"; package sample;
      enum Colour { COLOUR_UNSPECIFIED = 0; DEEP_RED = 1; }
      // A thing.
      message Thing {
        // Its name.
        string display_name = 1;
        repeated uint64 counts = 2;
        map<string, Colour> colours = 3;
        Thing parent = 4;
        bytes blob = 5;
        bool on = 6;
        double ratio = 7;
      }
      message Nothing {}`);
    assert.match(source, /export enum Colour \{\n {2}Unspecified = 0,\n {2}DeepRed = 1,\n\}/);
    assert.match(source, /\/\*\* A thing\. \*\/\nexport interface Thing \{\n {2}\/\*\* Its name\. \*\/\n {2}displayName\?: string;/);
    for (const field of ['counts?: Uint64[];', 'colours?: Record<string, Colour>;', 'parent?: Thing;', 'blob?: Uint8Array;', 'on?: boolean;', 'ratio?: number;']) {
      assert.ok(source.includes(`  ${field}\n`), field);
    }
    assert.match(source, /export type Nothing = Record<string, never>;/);
  });

  it('refuses what it cannot express: a nested type', () => {
    assert.throws(() => generated('syntax = "proto3"; package sample; message Outer { enum Inner { A = 0; } Inner inner = 1; }'), /sample\.Outer: nested types are not generated/);
  });
});

describe('who may send what, as gwc.proto says it', () => {
  it('reads one flow per "X -> Y:" line, with "or" between roles and a remark allowed before the colon', () => {
    assert.deepEqual(flowsOf('Worker or API client -> Gateway.'), [{ from: [Role.Worker, Role.Api], to: [Role.Gateway] }]);
    assert.deepEqual(flowsOf('Worker -> Gateway: "stop".\nGateway -> Worker (one that asked): the answer -> done.'), [
      { from: [Role.Worker], to: [Role.Gateway] },
      { from: [Role.Gateway], to: [Role.Worker] },
    ]);
    assert.deepEqual(flowsOf('Handshake: no arrow here.'), []);
    assert.deepEqual(flowsOf(null), []);
  });

  it('refuses a role it does not know, rather than permitting nothing', () => {
    assert.throws(() => flowsOf('Gateway -> Browser: nope.'), /no role "Browser"/);
  });
});
