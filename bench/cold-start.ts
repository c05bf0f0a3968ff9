/**
 * Cold-start figures for the API function: bundles `functions/api.ts` exactly as the CDK
 * construct does (infra/constructs/bundling.ts) and a bare baseline (hono + the same AWS
 * SDK clients, nothing else) the same way, then measures each bundle's size and the time
 * a fresh Node.js process takes to import it, which builds the app (median of several
 * runs, each in its own child process, no network: the operator key comes as a hash).
 * Runs alternate between the bundles, so load from other processes weighs on both alike;
 * the ratios (API over baseline) are the figures to compare, not the absolute times.
 * `npm run bench:cold-start` prints them; `npm run bench` copies what it prints into
 * docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, EXTERNAL_MODULES, MAIN_FIELDS, MINIFY, NODE_TARGET } from '../infra/constructs/bundling';

const root = resolve(import.meta.dirname, '..');

/** The target of both ratios (API over baseline). */
export const COLD_START_TARGET = 1.3;

/**
 * The same figures before the OpenAPI document was generated at build time (routes on
 * @hono/zod-openapi, every zod locale bundled, the document built at start), measured
 * by this script on 2026-11-30, for comparison.
 */
export const BEFORE = { bytes: 1_241_600, sizeRatio: 2.44, importRatio: 1.86 } as const;

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

export interface BundleFigures {
  name: 'api' | 'baseline';
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** Median import time, ms. */
  importMs: number;
  /** Median import time with `--enable-source-maps` (as the functions run), ms. */
  importMsSourceMaps: number;
  /** Output bytes by npm package (or `runnel` for our own code), largest first. */
  byPackage: [string, number][];
}

export interface ColdStartResult {
  node: string;
  runs: number;
  loadAverage: number;
  api: BundleFigures;
  baseline: BundleFigures;
  sizeRatio: number;
  importRatio: number;
  /** The generated OpenAPI document shipped beside the API bundle (read on request, not at start). */
  openApiDocumentBytes: number;
  openApiDocumentGzipBytes: number;
}

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

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

export const measureColdStart = async ({ runs = 7 }: { runs?: number } = {}): Promise<ColdStartResult> => {
  if (!Number.isInteger(runs) || runs < 1) throw new Error('runs must be a positive integer');
  const workDir = mkdtempSync(join(tmpdir(), 'runnel-bundle-'));
  try {
    const bundle = async (name: 'api' | 'baseline', entry: { file: string } | { contents: string }) => {
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
        byPackage: byPackage(result.metafile as Metafile),
      };
    };
    const bundles = [
      await bundle('api', { file: join(root, 'functions/api.ts') }),
      await bundle('baseline', { contents: BASELINE }),
    ];
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
    const [api, baseline] = bundles.map(
      ({ file: _file, ...b }): BundleFigures => ({
        ...b,
        importMs: median(plain.get(b.name) ?? []),
        importMsSourceMaps: median(mapped.get(b.name) ?? []),
      }),
    ) as [BundleFigures, BundleFigures];
    const document = readFileSync(join(root, 'shared/app/openapi.json'));
    return {
      node: process.version,
      runs,
      loadAverage: loadavg()[0] ?? 0,
      api,
      baseline,
      sizeRatio: api.bytes / baseline.bytes,
      importRatio: api.importMs / baseline.importMs,
      openApiDocumentBytes: document.byteLength,
      openApiDocumentGzipBytes: gzipSync(document, { level: 9 }).byteLength,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
};
