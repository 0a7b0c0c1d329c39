import { existsSync } from 'node:fs';
import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../config/settings.js';
import type { Handler } from './handler.js';

const CALLBACKS = ['onWorkerStart', 'onConnect', 'onWebSocketConnect', 'onMessage', 'onClose', 'onWorkerStop'] as const;
const bundledDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bundled-handlers');

/** Where a handler spec points: a bundled name ("chat", "echo") or a module path. */
export function resolveHandlerPath(spec: string): string {
  if (/^[a-z0-9-]+$/.test(spec)) {
    const bundled = path.join(bundledDir, `${spec}.js`);
    if (existsSync(bundled)) return bundled;
  }
  const file = path.resolve(spec);
  if (!existsSync(file)) throw new ConfigError(`worker: invalid setting --handler (GWC_HANDLER) = ${JSON.stringify(spec)}: no bundled handler or file by that name`);
  return file;
}

let hooksRegistered = false;

/** From here on, `gateway-cluster` imported by any module is this package (see package-hooks.ts). */
function resolvePackageForHandlers(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  register(new URL('./package-hooks.js', import.meta.url), { data: { packageUrl: new URL('../index.js', import.meta.url).href } });
}

/** Node.js strips TypeScript types itself from 22.18 and 23.6 on (process.features.typescript); before, it cannot. */
function checkTypeScriptSupport(spec: string, file: string): void {
  if (!/\.[cm]?ts$/.test(file) || (process.features as { typescript?: unknown }).typescript) return;
  throw new ConfigError(
    `worker: invalid setting --handler (GWC_HANDLER) = ${JSON.stringify(spec)}: a TypeScript handler needs Node.js 22.18 or newer ` +
      `(this is ${process.version}; the image runs a newer one): compile it to .js (tsc) or run a newer Node.js`,
  );
}

/** Imports a handler module; its callbacks come from the default export or from named exports. */
export async function loadHandler(spec: string): Promise<Handler> {
  const file = resolveHandlerPath(spec);
  checkTypeScriptSupport(spec, file);
  resolvePackageForHandlers();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`worker: invalid setting --handler (GWC_HANDLER) = ${JSON.stringify(spec)}: cannot load ${file}: ${(error as Error).message}`);
  }
  const candidate = hasCallbacks(mod.default) ? (mod.default as Record<string, unknown>) : mod;
  if (!hasCallbacks(candidate)) {
    throw new ConfigError(`worker: invalid setting --handler (GWC_HANDLER) = ${JSON.stringify(spec)}: exports none of ${CALLBACKS.join(', ')}`);
  }
  const handler: Handler = {};
  for (const name of CALLBACKS) {
    const fn = candidate[name];
    if (typeof fn === 'function') (handler as Record<string, unknown>)[name] = fn.bind(candidate);
  }
  return handler;
}

function hasCallbacks(value: unknown): boolean {
  return typeof value === 'object' && value !== null && CALLBACKS.some((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}
