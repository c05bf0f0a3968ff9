#!/usr/bin/env node
// The `runnel` command: the bundle built by `npm ci` / `npm run build -w @runnel/cli`.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/runnel.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('runnel is not built: run `npm run build -w @runnel/cli` in the repository\n');
  process.exit(1);
}
await import(bundle.href);
