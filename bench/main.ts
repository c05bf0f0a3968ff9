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
 * writes docs/performance.md with its SVG charts.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');

console.log('## throughput, calls, cost and latency');
const results = await runBench({ ...FULL_CONFIG, log: (line) => console.log(`· ${line}`) });
mkdirSync(docs, { recursive: true });
writeFileSync(join(docs, 'performance.md'), renderReport(results));
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
console.log(`Wrote docs/performance.md and charts in ${results.durationSeconds.toFixed(0)} s.\n`);

console.log('## consumer groups');
await benchGroups();
console.log('## compaction');
await benchCompaction();
console.log('## client SDK');
await benchSdk();
console.log('## Server-Sent Event streams');
await benchStreams({ samples: 100 });
console.log('## connectors');
await benchConnectors();
console.log('## noisy neighbours');
await benchNoisyNeighbour();
