/** `npm run proto-types`: writes the TypeScript shapes of runtime/proto/gwc.proto to runtime/wire/proto-types.ts. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetPath } from '../assets.js';
import { loadProto, PROTO_PACKAGE } from './proto-schema.js';
import { protoTypesSource } from './proto-types-source.js';

export const protoTypesPath = assetPath('runtime', 'wire', 'proto-types.ts');

export function renderProtoTypes(): string {
  return protoTypesSource(loadProto(), PROTO_PACKAGE, 'runtime/proto/gwc.proto by `npm run proto-types`');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(protoTypesPath, renderProtoTypes());
  console.log(`wrote ${path.relative(process.cwd(), protoTypesPath)}`);
}
