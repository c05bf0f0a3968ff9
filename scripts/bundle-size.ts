/**
 * Prints the API function's cold-start figures against a bare hono + AWS SDK baseline:
 * bundle sizes and import times, and their ratios (see bench/cold-start.ts).
 *
 *   npm run bench:cold-start [-- --runs 9]
 */
import { BEFORE, COLD_START_TARGET, kb, measureColdStart } from '../bench/cold-start';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const r = await measureColdStart({ runs });
console.log(`Node ${r.node}, ${r.runs} runs per figure, alternating bundles, load average ${r.loadAverage.toFixed(1)}`);
console.log('');
console.log(
  'bundle              loaded at start   gzip       source map   import ms (median)   with --enable-source-maps   chunks loaded on first use',
);
for (const b of [r.api, r.baseline, r.oneFile.api, r.oneFile.baseline]) {
  console.log(
    `${b.name.padEnd(19)} ${kb(b.bytes).padEnd(17)} ${kb(b.gzipBytes).padEnd(10)} ${kb(b.mapBytes).padEnd(12)} ${b.importMs.toFixed(1).padEnd(20)} ${b.importMsSourceMaps.toFixed(1).padEnd(27)} ${kb(b.lazyBytes)}`,
  );
}
console.log('');
console.log(
  `api over baseline, as deployed (code splitting): size +${kb(r.api.bytes - r.baseline.bytes)} (${r.sizeRatio.toFixed(3)}x), ` +
    `import +${(r.api.importMs - r.baseline.importMs).toFixed(1)} ms (${r.importRatio.toFixed(3)}x); target ${COLD_START_TARGET}x each`,
);
console.log(
  `both as one file (no splitting): size ${r.oneFile.sizeRatio.toFixed(2)}x, import ${r.oneFile.importRatio.toFixed(2)}x; ` +
    `splitting takes the api from ${kb(r.oneFile.api.bytes)} to ${kb(r.api.bytes)} loaded at start, ` +
    `import ${r.oneFile.api.importMs.toFixed(1)} to ${r.api.importMs.toFixed(1)} ms (${((1 - r.api.importMs / r.oneFile.api.importMs) * 100).toFixed(0)}% less)`,
);
console.log(
  `before the OpenAPI document moved to build time (2026-11-30): api ${kb(BEFORE.bytes)}, size ${BEFORE.sizeRatio}x, import ${BEFORE.importRatio}x`,
);
console.log(
  `beside the api bundle: openapi.json ${kb(r.openApiDocumentBytes)} (${kb(r.openApiDocumentGzipBytes)} gzipped), read on the first GET /openapi.json, not at start`,
);
console.log('');
console.log(
  `what the api loads on the first request of each kind, beyond the start (import in a started instance, median):`,
);
for (const f of r.firstUse) {
  console.log(`  ${f.request.padEnd(38)} +${kb(f.bytes).padEnd(10)} ${f.importMs.toFixed(1)} ms`);
}
console.log(
  '  (in AWS the api refuses streams, 406, and never loads their code: the stream function serves them and loads it on its first stream)',
);
console.log('');
console.log('api bundle by package (what a start loads):');
for (const [pkg, bytes] of r.api.byPackage.slice(0, 12)) console.log(`  ${kb(bytes).padStart(9)}  ${pkg}`);
