/**
 * Module resolution hooks for handler modules (registered by handler-loader.ts): `import ... from 'gateway-cluster'`
 * resolves to the copy of the package this worker runs, wherever the handler file lives (a ConfigMap volume, /tmp)
 * and whether or not it has the package installed, so `RefuseConnection` is the very class the worker checks for.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

export const PACKAGE_NAME = 'gateway-cluster';
let packageUrl = '';

export const initialize: InitializeHook<{ packageUrl: string }> = (data) => {
  packageUrl = data.packageUrl;
};

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (specifier === PACKAGE_NAME) return { url: packageUrl, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
};
