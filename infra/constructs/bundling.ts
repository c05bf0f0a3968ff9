/**
 * How every function is bundled, in one place: the CDK construct (runnel-function.ts) and
 * `scripts/bundle-size.ts` (bench/cold-start.ts) pass the same options to esbuild's API,
 * so the measured bundle is the deployed one.
 */
import type { BuildOptions } from 'esbuild';

export const NODE_TARGET = 'node22';

/**
 * ESM output has no `require`; a few CommonJS dependencies still call it (for Node
 * built-ins), so each output file defines one (written short: esbuild does not minify a
 * banner, and every chunk carries it).
 */
export const ESM_REQUIRE_BANNER =
  'import{createRequire as __rcr}from"node:module";const require=__rcr(import.meta.url);';

/** Prefer packages' ES module builds: they tree-shake better. */
export const MAIN_FIELDS = ['module', 'main'];

/**
 * Nothing is external: the AWS SDK is bundled (tree-shaken) instead of taken from the
 * runtime, so the deployed code runs the SDK version the tests ran.
 */
export const EXTERNAL_MODULES: string[] = [];

export const MINIFY = true;

/** The handler module in the bundle's directory: Lambda's handler is `index.handler`. */
export const ENTRY_FILE = 'index.mjs';

/**
 * esbuild's options for one function, written to `outdir`: `index.mjs` and, with code
 * splitting, the chunks it imports under `chunks/`. Splitting puts what a function imports
 * with `import()` (the API's rarely used routes, the AWS SDK's unused credential
 * providers) in chunks of their own, loaded on first use instead of parsed at start.
 */
export const functionBuildOptions = (entry: string, outdir: string): BuildOptions => ({
  entryPoints: { index: entry },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  platform: 'node',
  target: NODE_TARGET,
  format: 'esm',
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  external: EXTERNAL_MODULES,
  minify: MINIFY,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
