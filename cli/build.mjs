// Bundles the CLI (with its SDK and argument parser) into one ESM file, so `runnel`
// starts by loading a single module. Runs on `npm ci` (the workspace's `prepare`).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const sdkSource = join(here, '..', 'client', 'src', 'index.ts');

await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(here, 'dist', 'runnel.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // In the repository the SDK is built from its source, so the CLI never waits on the SDK's own build.
  alias: existsSync(sdkSource) ? { '@runnel/client': sdkSource } : {},
  // commander is CommonJS; its require() calls of Node built-ins need a real require in an ESM bundle.
  banner: {
    js: "import { createRequire as __runnelRequire } from 'node:module'; const require = __runnelRequire(import.meta.url);",
  },
  define: { RUNNEL_CLI_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
});
