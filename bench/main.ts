import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCompaction } from './compaction';
import { benchConnectors } from './connectors';
import { benchGroups } from './groups';
import { benchNoisyNeighbour } from './noisy-neighbour';
import { headlineFigures, renderCharts, renderReport } from './report';
import { FULL_CONFIG, runBench } from './run';
import { benchSdk } from './sdk';
import { benchStreams } from './streams';

/**
 * `npm run bench`: every benchmark in turn, printing its figures. The first measures the
 * local stack and NATS JetStream, models AWS cost and latency from the measured calls and
 * writes docs/performance.md with its SVG charts; what the others print follows there,
 * one section each.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');
const startedAt = Date.now();

console.log('## throughput, calls, cost and latency');
const results = await runBench({ ...FULL_CONFIG, log: (line) => console.log(`· ${line}`) });
mkdirSync(docs, { recursive: true });
for (const [name, svg] of Object.entries(renderCharts(results))) writeFileSync(join(docs, name), svg);
mkdirSync(join(root, '.bench'), { recursive: true });
writeFileSync(
  join(root, '.bench', 'results.json'),
  JSON.stringify(
    {
      ...results,
      latency: {
        ...results.latency,
        small: { ...results.latency.small, samples: undefined },
        batch: { ...results.latency.batch, samples: undefined },
        smallApiGateway: { ...results.latency.smallApiGateway, samples: undefined },
      },
      profiles: undefined,
    },
    null,
    2,
  ),
);
console.log('');
for (const [figure, value] of headlineFigures(results)) console.log(`${figure}: ${value}`);
if ('skipped' in results.nats) console.log(`NATS JetStream: skipped (${results.nats.skipped})`);

/**
 * The other benches print their figures; each one's lines also go into
 * docs/performance.md under its own heading, so every figure the docs quote comes from
 * this run. A bench that fails says so there instead of stopping the rest.
 */
const sections: string[] = [];
const captured = async (title: string, run: () => Promise<unknown>) => {
  console.log(`## ${title}`);
  const lines: string[] = [];
  const print = console.log;
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    lines.push(line);
    print(line);
  };
  try {
    await run();
  } catch (error) {
    lines.push(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    print(`FAILED: ${error}`);
  } finally {
    console.log = print;
  }
  sections.push(`## ${title} (printed by npm run bench)\n\n\`\`\`text\n${lines.join('\n').trim()}\n\`\`\``);
};

/** Runs a script of its own (it bundles and spawns fresh processes) and prints what it printed. */
const script = (file: string) => () =>
  new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, file)],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => {
        for (const line of stdout.split('\n')) console.log(line);
        if (error) reject(error);
        else resolve();
      },
    );
  });

await captured('Consumer groups', benchGroups);
await captured('Compaction', benchCompaction);
await captured('Client SDK', benchSdk);
await captured('Server-Sent Event streams', () => benchStreams({ samples: 100 }));
await captured('Connectors', benchConnectors);
await captured('Noisy neighbours', benchNoisyNeighbour);
await captured('Cold start (API bundle against a bare hono + AWS SDK bundle)', script('scripts/bundle-size.ts'));

writeFileSync(join(docs, 'performance.md'), `${renderReport(results).trimEnd()}\n\n${sections.join('\n\n')}\n`);
console.log(`Wrote docs/performance.md and charts in ${((Date.now() - startedAt) / 1000).toFixed(0)} s.\n`);
