/**
 * Cold-start figures for the API function: bundles `functions/api.ts` exactly as the CDK
 * construct does (infra/constructs/bundling.ts) and a bare baseline (hono + the same AWS
 * SDK clients, nothing else) the same way, then reports each bundle's size and the time
 * a fresh Node.js process takes to import it, which builds the app (median of several
 * runs, each in its own child process, no network: the operator key comes as a hash).
 * Runs alternate between the bundles, so load from other processes weighs on both alike;
 * the ratios (API over baseline) are the figures to compare, not the absolute times.
 *
 *   npm run bench:cold-start [-- --runs 9]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, EXTERNAL_MODULES, MAIN_FIELDS, MINIFY, NODE_TARGET } from '../infra/constructs/bundling';

const root = resolve(import.meta.dirname, '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

/** The construct's options, for esbuild's API (NodejsFunction passes the same as CLI flags). */
const constructOptions: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: NODE_TARGET,
  format: 'esm',
  mainFields: MAIN_FIELDS,
  banner: { js: ESM_REQUIRE_BANNER },
  external: EXTERNAL_MODULES,
  minify: MINIFY,
  sourcemap: true,
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
};

const BASELINE = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const s3 = new S3Client({});
const secrets = new SecretsManagerClient({});
const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok', clients: [dynamodb, s3, secrets].length }));
export const handler = handle(app);
`;

const workDir = mkdtempSync(join(tmpdir(), 'runnel-bundle-'));

interface Bundle {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  metafile: Metafile;
}

const bundle = async (name: string, entry: { file: string } | { contents: string }): Promise<Bundle> => {
  const outdir = join(workDir, name);
  mkdirSync(outdir);
  const file = join(outdir, 'index.mjs');
  const result = await build({
    ...constructOptions,
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: root, loader: 'ts', sourcefile: `${name}.ts` } }),
    outfile: file,
    absWorkingDir: root,
  });
  const code = readFileSync(file);
  return {
    name,
    file,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    mapBytes: statSync(`${file}.map`).size,
    metafile: result.metafile as Metafile,
  };
};

/** Output bytes by npm package (or `runnel` for our own code), largest first. */
const byPackage = (metafile: Metafile): [string, number][] => {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = match?.[1] ?? 'runnel';
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
};

const ENV = {
  ...process.env,
  AWS_REGION: 'eu-west-1',
  RUNNEL_METADATA_TABLE: 'runnel-metadata',
  RUNNEL_LOG_TABLE: 'runnel-log',
  RUNNEL_SEGMENT_BUCKET: 'runnel-segments',
  // A hash, so the import makes no Secrets Manager call.
  RUNNEL_OPERATOR_KEY_HASH: '0'.repeat(64),
  POWERTOOLS_SERVICE_NAME: 'runnel',
  POWERTOOLS_METRICS_NAMESPACE: 'Runnel',
};

/** Milliseconds for a fresh process to import the bundle (parse, compile, run its top level). */
const importMs = (file: string, nodeOptions: string[]): number => {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, [...nodeOptions, '--input-type=module', '-e', script], {
    env: ENV,
    encoding: 'utf8',
  });
  return Number(out.trim().split('\n').pop());
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

try {
  const bundles = [
    await bundle('api', { file: join(root, 'functions/api.ts') }),
    await bundle('baseline', { contents: BASELINE }),
  ];
  console.log(
    `Node ${process.version}, ${runs} runs per figure, load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)}`,
  );
  console.log('');
  console.log('bundle     size        gzip       source map   import ms (median)   with --enable-source-maps');
  // Warm the file cache once; then alternate bundles and option sets run by run.
  for (const b of bundles) importMs(b.file, []);
  const plain = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  const mapped = new Map<string, number[]>(bundles.map((b) => [b.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const b of bundles) {
      plain.get(b.name)?.push(importMs(b.file, []));
      mapped.get(b.name)?.push(importMs(b.file, ['--enable-source-maps']));
    }
  }
  const results: Record<string, number> = {};
  for (const b of bundles) {
    results[b.name] = median(plain.get(b.name) ?? []);
    console.log(
      `${b.name.padEnd(10)} ${kb(b.bytes).padEnd(11)} ${kb(b.gzipBytes).padEnd(10)} ${kb(b.mapBytes).padEnd(12)} ${median(
        plain.get(b.name) ?? [],
      )
        .toFixed(1)
        .padEnd(20)} ${median(mapped.get(b.name) ?? []).toFixed(1)}`,
    );
  }
  const [api, baseline] = bundles as [Bundle, Bundle];
  console.log('');
  console.log(
    `api over baseline: size +${kb(api.bytes - baseline.bytes)} (${(api.bytes / baseline.bytes).toFixed(2)}x), ` +
      `import +${((results.api ?? 0) - (results.baseline ?? 0)).toFixed(1)} ms (${((results.api ?? 0) / (results.baseline ?? 1)).toFixed(2)}x); target 1.3x each`,
  );
  const documentBytes = statSync(join(root, 'shared/app/openapi.json')).size;
  console.log(
    `beside the api bundle: openapi.json ${kb(documentBytes)}, read on the first GET /openapi.json, not at start`,
  );
  console.log('');
  console.log('api bundle by package:');
  for (const [pkg, bytes] of byPackage(api.metafile).slice(0, 12)) console.log(`  ${kb(bytes).padStart(9)}  ${pkg}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
