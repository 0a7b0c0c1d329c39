/** `npm run openapi`: writes the HTTP API's OpenAPI document to runtime/http-api/openapi.json. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetPath } from '../assets.js';
import { openApiDocument } from './openapi.js';

export const openApiPath = assetPath('runtime', 'http-api', 'openapi.json');

export function renderOpenApi(): string {
  return JSON.stringify(openApiDocument(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(openApiPath, renderOpenApi());
  console.log(`wrote ${path.relative(process.cwd(), openApiPath)}`);
}
