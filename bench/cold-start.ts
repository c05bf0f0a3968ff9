/**
 * Cold-start figures for the API function: bundles `functions/api.ts` exactly as the CDK
 * construct does (infra/constructs/bundling.ts: `index.mjs` plus chunks loaded on first
 * use) and a bare baseline (bench/cold-start-baseline.ts: hono + the same AWS SDK clients,
 * nothing else) the same way, then measures what a start loads (the entry and the chunks
 * it imports statically; chunks behind `import()` are counted apart) and the time a fresh
 * Node.js process takes to import the entry, which builds the app (median of several
 * runs, each in its own child process, no network: the operator key comes as a hash).
 * Runs alternate between the bundles, so load from other processes weighs on both alike;
 * the ratios (API over baseline) are the figures to compare, not the absolute times.
 * What moved off the start is measured too: for each kind of request whose code is loaded
 * on first use ({@link FIRST_USE}), the chunks it adds and the time a started instance
 * takes to import them.
 * `npm run bench:cold-start` prints them; `npm run bench` copies what it prints into
 * docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ENTRY_FILE, functionBuildOptions } from '../infra/constructs/bundling';

const root = resolve(import.meta.dirname, '..');

/** The target of both ratios (API over baseline). */
export const COLD_START_TARGET = 1.3;

/**
 * The same figures before the OpenAPI document was generated at build time (routes on
 * the schema library's OpenAPI integration, all its locales bundled, the document built
 * at start), measured by this script on 2026-11-30, for comparison.
 */
export const BEFORE = { bytes: 1_241_600, sizeRatio: 2.44, importRatio: 1.86 } as const;

/**
 * Requests whose code the API loads on their first use, with the modules each one imports
 * then (the `import()`s in shared/app/create-app.ts and shared/adapters/aws.ts, of the
 * modules under shared/app/first-use/ and shared/adapters/dynamodb/first-use/).
 */
export const FIRST_USE = [
  {
    request: 'idempotent produce (Idempotency-Key or producerId)',
    modules: ['shared/app/first-use/exactly-once.ts', 'shared/adapters/dynamodb/first-use/idempotency-store.ts'],
  },
  {
    request: 'topic admin (create, list, change, delete)',
    modules: ['shared/app/first-use/topic-admin-routes.ts'],
  },
  {
    request: 'consumer groups (/v1/groups)',
    modules: [
      'shared/app/first-use/group-routes.ts',
      'shared/app/first-use/group-service.ts',
      'shared/adapters/dynamodb/first-use/group-store.ts',
    ],
  },
  {
    request: 'a stream (Accept: text/event-stream)',
    modules: ['shared/app/first-use/stream-routes.ts', 'shared/app/first-use/record-stream.ts'],
  },
  {
    request: 'connectors (/v1/connectors)',
    modules: ['shared/app/first-use/connector-routes.ts', 'shared/adapters/dynamodb/first-use/connector-store.ts'],
  },
  { request: 'operator API (/admin/v1)', modules: ['shared/app/first-use/admin-routes.ts'] },
  {
    request: 'keys (/v1/keys)',
    modules: ['shared/app/first-use/key-routes.ts', 'shared/app/first-use/key-service.ts'],
  },
  {
    request: 'browser tokens (/v1/tokens)',
    modules: ['shared/app/first-use/token-routes.ts', 'shared/app/first-use/token-service.ts'],
  },
  { request: 'web console (/console)', modules: ['shared/app/first-use/console.ts'] },
] as const;

/** What the first request of one kind loads beyond the start, and how long its import takes. */
export interface FirstUseFigures {
  request: string;
  /** The chunks it loads that a start did not. */
  bytes: number;
  /** Median time to import them in a started instance, ms. */
  importMs: number;
}

type BundleName = 'api' | 'baseline' | 'api-one-file' | 'baseline-one-file';

export interface BundleFigures {
  name: BundleName;
  /** What a start loads: the entry and every chunk it imports statically. */
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** Chunks loaded only on first use (behind `import()`), not at start. */
  lazyBytes: number;
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
  /**
   * Both bundled as one file without code splitting (as the functions were before
   * splitting), measured in the same alternating runs: what splitting gains each of them.
   */
  oneFile: { api: BundleFigures; baseline: BundleFigures; sizeRatio: number; importRatio: number };
  /** What the API loads on the first request of each kind, beyond the start. */
  firstUse: FirstUseFigures[];
  /** The generated OpenAPI document shipped beside the API bundle (read on request, not at start). */
  openApiDocumentBytes: number;
  openApiDocumentGzipBytes: number;
}

/** Output bytes by npm package (or `runnel` for our own code) in the given outputs, largest first. */
const byPackage = (metafile: Metafile, files: Set<string>): [string, number][] => {
  const totals = new Map<string, number>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (!files.has(file)) continue;
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = match?.[1] ?? 'runnel';
      totals.set(key, (totals.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
};

/** The output files a start loads: the entry and, transitively, what it imports statically. */
const loadedAtStart = (metafile: Metafile, entry: string): Set<string> => {
  const loaded = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      if (i.kind === 'import-statement' && metafile.outputs[i.path]) pending.push(i.path);
    }
  }
  return loaded;
};

const ENV = {
  ...process.env,
  AWS_REGION: 'eu-west-1',
  RUNNEL_METADATA_TABLE: 'runnel-metadata',
  RUNNEL_LOG_TABLE: 'runnel-log',
  RUNNEL_SEGMENT_BUCKET: 'runnel-segments',
  // A hash, so the import makes no Secrets Manager call.
  RUNNEL_OPERATOR_KEY_HASH: '0'.repeat(64),
  RUNNEL_SERVICE_NAME: 'runnel',
  RUNNEL_METRICS_NAMESPACE: 'Runnel',
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

/** The output files a first use adds to those loaded at start: its modules' chunks and what they import statically. */
const loadedOnFirstUse = (metafile: Metafile, modules: readonly string[], atStart: Set<string>) => {
  const roots = modules.map((module) => {
    const found = Object.keys(metafile.outputs).find(
      (f) => f.endsWith('.mjs') && metafile.outputs[f]?.entryPoint === module,
    );
    if (!found) throw new Error(`${module} is not a chunk of its own: it no longer loads on first use`);
    return found;
  });
  const loaded = new Set<string>();
  const pending = [...roots];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (loaded.has(file) || atStart.has(file)) continue;
    loaded.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      if (i.kind === 'import-statement' && metafile.outputs[i.path]) pending.push(i.path);
    }
  }
  return { roots, loaded };
};

/** Milliseconds a started instance (the entry imported) takes to import the given chunks. */
const firstUseMs = (entry: string, chunks: string[]): number => {
  const urls = chunks.map((f) => pathToFileURL(f).href);
  const script =
    `await import(${JSON.stringify(pathToFileURL(entry).href)}); const t = performance.now(); ` +
    `await Promise.all(${JSON.stringify(urls)}.map((u) => import(u))); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: ENV, encoding: 'utf8' });
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
    const bundle = async (name: BundleName, entry: string) => {
      const outdir = join(workDir, name);
      mkdirSync(outdir);
      const splitting = !name.endsWith('one-file');
      const options = { ...functionBuildOptions(entry, outdir), splitting, absWorkingDir: root, metafile: true };
      const result = await build(options);
      const metafile = result.metafile as Metafile;
      const entryOutput = Object.keys(metafile.outputs).find((f) => f.endsWith(`/${name}/${ENTRY_FILE}`));
      if (!entryOutput) throw new Error(`no ${ENTRY_FILE} in the ${name} bundle`);
      const atStart = loadedAtStart(metafile, entryOutput);
      const code = Buffer.concat([...atStart].map((f) => readFileSync(resolve(root, f))));
      const all = Object.entries(metafile.outputs).filter(([f]) => f.endsWith('.mjs'));
      const firstUse =
        splitting && name === 'api'
          ? FIRST_USE.map(({ request, modules }) => {
              const { roots, loaded } = loadedOnFirstUse(metafile, modules, atStart);
              return {
                request,
                roots: roots.map((f) => resolve(root, f)),
                bytes: [...loaded].reduce((sum, f) => sum + (metafile.outputs[f]?.bytes ?? 0), 0),
              };
            })
          : [];
      return {
        name,
        firstUse,
        file: join(outdir, ENTRY_FILE),
        bytes: code.byteLength,
        gzipBytes: gzipSync(code, { level: 9 }).byteLength,
        mapBytes: [...atStart].reduce((sum, f) => sum + statSync(resolve(root, `${f}.map`)).size, 0),
        lazyBytes: all.filter(([f]) => !atStart.has(f)).reduce((sum, [, o]) => sum + o.bytes, 0),
        byPackage: byPackage(metafile, atStart),
      };
    };
    const bundles = [
      await bundle('api', join(root, 'functions/api.ts')),
      await bundle('baseline', join(root, 'bench/cold-start-baseline.ts')),
      await bundle('api-one-file', join(root, 'functions/api.ts')),
      await bundle('baseline-one-file', join(root, 'bench/cold-start-baseline.ts')),
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
    // What each first use adds, imported after a start (its own runs; the chunks differ by request).
    const apiBundle = bundles[0] as (typeof bundles)[number];
    const firstUse: FirstUseFigures[] = apiBundle.firstUse.map(({ request, roots, bytes }) => ({
      request,
      bytes,
      importMs: median(Array.from({ length: runs }, () => firstUseMs(apiBundle.file, roots))),
    }));
    const [api, baseline, apiOneFile, baselineOneFile] = bundles.map(
      ({ file: _file, firstUse: _firstUse, ...b }): BundleFigures => ({
        ...b,
        importMs: median(plain.get(b.name) ?? []),
        importMsSourceMaps: median(mapped.get(b.name) ?? []),
      }),
    ) as [BundleFigures, BundleFigures, BundleFigures, BundleFigures];
    const document = readFileSync(join(root, 'shared/app/openapi.json'));
    return {
      node: process.version,
      runs,
      loadAverage: loadavg()[0] ?? 0,
      api,
      baseline,
      sizeRatio: api.bytes / baseline.bytes,
      importRatio: api.importMs / baseline.importMs,
      oneFile: {
        api: apiOneFile,
        baseline: baselineOneFile,
        sizeRatio: apiOneFile.bytes / baselineOneFile.bytes,
        importRatio: apiOneFile.importMs / baselineOneFile.importMs,
      },
      firstUse,
      openApiDocumentBytes: document.byteLength,
      openApiDocumentGzipBytes: gzipSync(document, { level: 9 }).byteLength,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
};
