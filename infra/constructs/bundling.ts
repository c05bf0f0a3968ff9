/**
 * How every function is bundled, in one place: the CDK construct passes these to
 * NodejsFunction (which runs the local esbuild) and `scripts/bundle-size.ts` passes the
 * same values to esbuild's API, so the measured bundle is the deployed one.
 */
export const NODE_TARGET = 'node22';

/**
 * ESM output has no `require`; a few CommonJS dependencies still call it (for Node
 * built-ins), so the bundle defines one.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __runnelCreateRequire } from 'node:module'; const require = __runnelCreateRequire(import.meta.url);";

/** Prefer packages' ES module builds: they tree-shake better. */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * Nothing is external: the AWS SDK is bundled (tree-shaken) instead of taken from the
 * runtime, so the deployed code runs the SDK version the tests ran, and one file loads
 * faster than many.
 */
export const EXTERNAL_MODULES: string[] = [];

export const MINIFY = true;
