import { KiB, MiB, SEGMENT_PUT_HEDGE_AFTER_MS } from '#shared/constants';
import { USAGE_SHARDS } from '#shared/ports/usage-store';
import { USAGE_REFRESH_MS } from '#shared/services/quotas';
import { hotPartitionCeiling } from './calls';
import { cdfPoints, lineChart } from './charts';
import { belowKinesisIngest, type CostBreakdown } from './cost-model';
import {
  LATENCY_DISTRIBUTIONS,
  type LatencyModel,
  percentiles,
  reChecksPerHour,
  S3_PUT_HEDGED_FRACTION,
  S3_STREAM_BYTES_PER_MS,
  sampleCall,
  seededRandom,
} from './latency-model';
import {
  AWS_PRICES,
  KINESIS_ON_DEMAND,
  MODEL_ASSUMPTIONS,
  MSK_SERVERLESS,
  PRICES_AS_OF,
  UPSTASH_KAFKA_FORMER,
} from './prices';
import type { BenchResults } from './run';

export const sizeLabel = (bytes: number) => {
  if (bytes >= MiB && bytes % (MiB / 4) === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB) return `${Math.round((bytes / KiB) * 10) / 10} KiB`;
  return `${bytes} B`;
};

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (n: number) => {
  if (n === 0) return '$0';
  if (n >= 1) return `$${n.toFixed(2)}`;
  return `$${n.toPrecision(3)}`;
};
const perMillion = (n: number) => `$${(n * 1e6).toFixed(3)}`;
const ops = (perRequest: Record<string, number>) =>
  Object.entries(perRequest)
    .map(([op, count]) => `${op} ${Number.isInteger(count) ? count : count.toFixed(2)}`)
    .join(', ');
/** Milliseconds: one decimal below 100 ms, so a figure next to its goal is not rounded onto it. */
const ms = (n: number) => `${n.toFixed(n < 100 ? 1 : 0)} ms`;

/** A markdown table with padded columns (the layout the project's formatter gives tables). */
const table = (header: string[], rows: (string | number)[][]) => {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - [...c].length)).join(' | ')} |`;
  return [
    line(cells[0] as string[]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...cells.slice(1).map(line),
  ].join('\n');
};

const breakdownRow = (label: string, b: CostBreakdown) => [
  label,
  perMillion(b.apiGateway),
  perMillion(b.lambdaRequest),
  perMillion(b.lambdaDuration),
  perMillion(b.dynamodbReads),
  perMillion(b.dynamodbWrites),
  perMillion(b.s3Puts),
  perMillion(b.s3Gets),
  perMillion(b.total),
];

/** The figures the issues ask for, one line each. */
export const headlineFigures = (r: BenchResults) => {
  const at1MiB = r.cost.rows.find((row) => row.size === MiB);
  const c1 = r.throughput.find((t) => t.concurrency === 1);
  const c8 = r.throughput.find((t) => t.concurrency === 8);
  const natsRuns = 'runs' in r.nats ? r.nats.runs : [];
  const ratio = (t: (typeof r.throughput)[number] | undefined) => {
    const n = natsRuns.find((x) => x.concurrency === t?.concurrency);
    return t && n
      ? `produce ${(t.produceRecordsPerSec / n.publishRecordsPerSec).toFixed(2)}×, fetch ${(t.fetchRecordsPerSec / n.consumeRecordsPerSec).toFixed(2)}× of JetStream`
      : 'JetStream not run';
  };
  const lines: [string, string][] = [];
  if (at1MiB) {
    lines.push([
      '$/GB ingested at 1 MiB requests (modelled)',
      `${usd(at1MiB.ingestPerGb)} through the default front door, the API function's Function URL (${belowKinesisIngest(at1MiB.ingestPerGb).toFixed(1)}× below Kinesis on-demand $0.08; goal ≥ 8×); ${usd(at1MiB.ingestPerGbHttpApi)} through API Gateway HTTP API, opt-in (${belowKinesisIngest(at1MiB.ingestPerGbHttpApi).toFixed(1)}×)`,
    ]);
    lines.push(['$/GB consumed at 1 MiB fetches (modelled)', `${usd(at1MiB.consumePerGb)} (Kinesis $0.04)`]);
  }
  const be = r.cost.breakEven;
  lines.push([
    'Break-even request size vs Kinesis on-demand ingest',
    `${be.kinesisIngest ? sizeLabel(Math.round(be.kinesisIngest)) : 'n/a'} (Function URL, the default); ${be.kinesisIngestHttpApi ? sizeLabel(Math.round(be.kinesisIngestHttpApi)) : 'n/a'} (HTTP API)`,
  ]);
  for (const [name, model] of [
    ['1 KiB record, inline', r.latency.small],
    ['100 × 1 KiB batch, S3', r.latency.batch],
  ] as const) {
    lines.push([
      `Produce p50 / p99, ${name} (modelled)`,
      `${ms(model.produce.p50)} / ${ms(model.produce.p99)}, ${model.roundTrips.produce} sequential AWS round trips`,
    ]);
    lines.push([
      `End to end p50 / p99, ${name} (modelled)`,
      `${ms(model.endToEnd.p50)} / ${ms(model.endToEnd.p99)}, ${model.roundTrips.endToEnd} sequential AWS round trips (fetch alone: ${model.roundTrips.fetch})`,
    ]);
  }
  const appendOnly = r.hotPartition.filter((h) => h.via === 'append');
  if (appendOnly.length > 0) {
    lines.push([
      'Hot partition: attempts per append by concurrent writers, append path (measured); ceiling (modelled)',
      `${appendOnly.map((h) => `${h.attemptsPerAppend.toFixed(2)} at ${h.writers}`).join(', ')} (goal ≤ 1.5 at 16 and 64); ${num(Math.round(hotPartitionCeiling(Math.max(...appendOnly.map((h) => h.hottestItemWritesPerAppend)), 1)))} appends/s per partition (one counter item, 1,000 writes/s; goal ≥ 1,000); the attempts above 1 are the puts lost in the race that ends a partition's tail era, once`,
    ]);
  }
  lines.push([
    'Produce requests per second per tenant (modelled ceiling from measured writes)',
    `${num(r.admissions.ceilingPerSecond)}: the most written item (${r.admissions.hottestItem}) takes ${r.admissions.hottestItemWritesPerRequest.toFixed(4)} writes per produce, at 1,000 writes/s per item (goal ≥ 20,000)`,
  ]);
  if (c1)
    lines.push([
      'Local throughput, concurrency 1 (measured)',
      `produce ${num(c1.produceRecordsPerSec)} rec/s (${c1.produceMBps.toFixed(2)} MB/s), fetch ${num(c1.fetchRecordsPerSec)} rec/s (${c1.fetchMBps.toFixed(2)} MB/s); ${ratio(c1)}`,
    ]);
  if (c8)
    lines.push([
      'Local throughput, concurrency 8 (measured)',
      `produce ${num(c8.produceRecordsPerSec)} rec/s (${c8.produceMBps.toFixed(2)} MB/s), fetch ${num(c8.fetchRecordsPerSec)} rec/s (${c8.fetchMBps.toFixed(2)} MB/s); ${ratio(c8)}`,
    ]);
  lines.push([
    'Handler CPU per record, I/O excluded (measured)',
    `produce ${r.cpu.produceUsPerRecord.toFixed(1)} µs, fetch ${r.cpu.fetchUsPerRecord.toFixed(1)} µs (1 KiB records, 100 per request)`,
  ]);
  const sc = r.inline.scenarios[0];
  if (sc)
    lines.push([
      'Inline threshold (measured calls, priced)',
      `crossover ${sc.crossover ? sizeLabel(Math.round(sc.crossover)) : 'beyond the range'} for 1 consumer and 7-day retention; current ${sizeLabel(r.inline.current)}`,
    ]);
  return lines;
};

export const renderCharts = (r: BenchResults) => {
  const alt = r.cost.alternatives;
  const xs = r.cost.sweep.map((s) => s.size);
  const flat = (y: number) => [
    { x: Math.min(...xs), y },
    { x: Math.max(...xs), y },
  ];
  const costCurve = lineChart({
    title: 'Cost per GB by request size (us-east-1 list prices, measured calls)',
    xTicks: [1, 4, 16, 64, 256, 1024, 4096].map((k) => k * KiB),
    xLabel: 'request size (record payload, 1 KiB records)',
    yLabel: '$ per GB',
    xLog: true,
    yLog: true,
    formatX: sizeLabel,
    formatY: (y) => (y >= 1 ? `$${y}` : `$${y.toPrecision(1)}`),
    series: [
      {
        name: 'Runnel ingest (Function URL, default)',
        color: '#1f77b4',
        points: r.cost.sweep.map((s) => ({ x: s.size, y: s.ingest })),
      },
      {
        name: 'Runnel ingest (HTTP API)',
        color: '#1f77b4',
        dashed: true,
        points: r.cost.sweep.map((s) => ({ x: s.size, y: s.ingestHttpApi })),
      },
      { name: 'Runnel consume', color: '#2ca02c', points: r.cost.sweep.map((s) => ({ x: s.size, y: s.consume })) },
      { name: 'Kinesis on-demand in', color: '#d62728', points: flat(alt.kinesisOnDemand.ingest) },
      { name: 'Kinesis on-demand out', color: '#d62728', dashed: true, points: flat(alt.kinesisOnDemand.consume) },
      { name: 'MSK Serverless in', color: '#9467bd', points: flat(alt.mskServerless.ingest) },
      { name: 'Upstash Kafka (former)', color: '#ff7f0e', points: flat(alt.upstashKafkaFormer.ingest) },
    ],
    markers: [{ x: r.inline.current, label: 'inline limit', color: '#555' }],
  });
  const latency = (title: string, model: LatencyModel) =>
    lineChart({
      title,
      xLabel: 'latency (ms)',
      yLabel: 'fraction of requests',
      xLog: true,
      xTicks: [10, 20, 50, 100, 200, 500, 1000, 2000],
      formatX: (x) => `${x}`,
      formatY: (y) => y.toFixed(1),
      series: [
        { name: 'produce (ack)', color: '#1f77b4', points: cdfPoints(model.samples.produce) },
        { name: 'end to end', color: '#2ca02c', points: cdfPoints(model.samples.endToEnd) },
      ],
      markers: [
        { x: 200, label: 'Kinesis ~200 ms', color: '#d62728' },
        { x: 500, label: 'WarpStream p50 500 ms', color: '#9467bd' },
        { x: 900, label: 'WarpStream p99 900 ms', color: '#9467bd' },
      ],
    });
  return {
    'cost-per-gb.svg': costCurve,
    'latency-small.svg': latency('Modelled latency CDF: one 1 KiB record (inline)', r.latency.small),
    'latency-batch.svg': latency('Modelled latency CDF: 100 × 1 KiB records (S3 segment)', r.latency.batch),
  };
};

/** The hedged segment PUT's modelled p99 (no transfer time). */
const hedgedPutP99 = () => {
  const random = seededRandom(3);
  const put = { operation: 'S3.PutObject', bytes: 0, start: 0, end: 0 } as Parameters<typeof sampleCall>[0];
  return percentiles(Array.from({ length: 100_000 }, () => sampleCall(put, random))).p99;
};

export const renderReport = (r: BenchResults): string => {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines.flatMap((line) => [line, '']));
  push(
    '# Performance and cost',
    `Generated by \`npm run bench\` (bench/main.ts) on ${r.startedAt}, in ${r.durationSeconds.toFixed(0)} s, on ${r.machine.cpus} × ${r.machine.model}, Node ${r.machine.node}, load average at the end ${r.machine.loadAverage.map((l) => l.toFixed(1)).join(' / ')} (the machine is shared: local timings move with the load; call counts do not). Rerun it to refresh every figure on this page.`,
    '**Measured** figures come from this run on the local stack (dynalite and s3rver in-process, reached by the real AWS SDK clients) or on in-memory ports. **Modelled** figures price or time those measured calls with AWS list prices and published latencies. Each table says which it is.',
  );

  push('## Headline figures', table(['figure', 'value'], headlineFigures(r)));

  // Throughput.
  push(
    '## Local throughput (measured)',
    'The real app served by `@hono/node-server` on 127.0.0.1 (as `npm start` serves it), called over loopback HTTP with `fetch`. Records of 1 KiB, produce requests of 100 records, each worker on its own partition (contention on one partition is measured below); then every record is read back with fetches of up to 500 records. The emulators, the app and the client share one Node process, so these are figures of the local stack, not of AWS. MB = 10^6 bytes of record payload.',
    table(
      [
        'concurrency',
        'records',
        'produce rec/s',
        'produce MB/s',
        'fetch rec/s',
        'fetch MB/s',
        'calls per produce',
        'calls per fetch',
      ],
      r.throughput.map((t) => [
        t.concurrency,
        num(t.records),
        num(t.produceRecordsPerSec),
        t.produceMBps.toFixed(2),
        num(t.fetchRecordsPerSec),
        t.fetchMBps.toFixed(2),
        ops(t.callsPerProduce),
        ops(t.callsPerFetch),
      ]),
    ),
  );
  if ('runs' in r.nats) {
    const natsRuns = r.nats.runs;
    push(
      `### Side by side: NATS JetStream ${r.nats.serverVersion} (measured, same run, same machine)`,
      "Debian's `nats-server` with JetStream on file storage in a temp dir, started by the bench on a loopback port; the `nats` npm client publishes the same 1 KiB records, 100 acked publishes in flight per worker round (JetStream's equivalent of a 100-record produce request), and reads them back with an ordered consumer in fetches of 500. Note the difference in durability: JetStream acknowledges once the message is in its file store (fsync every 2 minutes by default, one replica here); Runnel acknowledges after a DynamoDB write, which in AWS is replicated across three zones.",
      table(
        [
          'concurrency',
          'publish rec/s',
          'publish MB/s',
          'consume rec/s',
          'consume MB/s',
          'Runnel/JetStream produce',
          'Runnel/JetStream fetch',
        ],
        natsRuns.map((n) => {
          const t = r.throughput.find((x) => x.concurrency === n.concurrency);
          return [
            n.concurrency,
            num(n.publishRecordsPerSec),
            n.publishMBps.toFixed(2),
            num(n.consumeRecordsPerSec),
            n.consumeMBps.toFixed(2),
            t ? (t.produceRecordsPerSec / n.publishRecordsPerSec).toFixed(2) : 'n/a',
            t ? (t.fetchRecordsPerSec / n.consumeRecordsPerSec).toFixed(2) : 'n/a',
          ];
        }),
      ),
    );
  } else {
    push('### Side by side: NATS JetStream', `Skipped: ${r.nats.skipped}.`);
  }

  // Calls.
  const targetsProduce = (p: (typeof r.produceCalls)[number]) => {
    const puts = p.perRequest['S3.PutObject'] ?? 0;
    const writes = p.perRequest['DynamoDB.PutItem'] ?? 0;
    return `${puts <= 1 ? '✔' : '✘'} ≤ 1 S3 PUT; ${writes === p.partitionsTouched ? '✔' : '✘'} ${p.partitionsTouched} DynamoDB write(s)`;
  };
  push(
    '## AWS calls per request (measured)',
    "Counted by operation with the project's `SdkCallCounter` middleware on the SDK clients, averaged over steady-state requests (the API key lookup is cached for 5 s per instance and so is not part of a request; the warm-up call is not counted). Capacity units are those DynamoDB reports (`ReturnConsumedCapacity`, computed by dynalite with DynamoDB's rules: a strongly consistent read costs 1 unit per 4 KB of items read, a write 1 unit per KB). Small = 10 records of 100 B (stored inline); large = 100 records of 1 KiB (one S3 object).",
    table(
      ['produce', 'calls per request', 'read units', 'write units', 'S3 bytes', 'round trips', 'targets'],
      r.produceCalls.map((p) => [
        p.label,
        ops(p.perRequest),
        p.readUnits.toFixed(1),
        p.writeUnits.toFixed(1),
        num(p.s3Bytes),
        p.roundTrips,
        targetsProduce(p),
      ]),
    ),
    "A produce does, in two round trips: first, side by side, the topic's validation (GetItem: the request was planned with the topic as this instance last read it, and nothing is committed unless it is still that topic), per partition touched a read of its last entry (Query, Limit 1; on an instance's first request to the partition, also of its offset counter, GetItem: a partition one writer appends to at a time has none, it is in its tail era), and, once the quota admitted the request, an S3 PUT when the batches exceed the inline limit; then per partition one conditional PutItem where the last entry ends. These counts are such partitions. Once two writers raced for a partition's tail it has a counter: the reads give way to one offset reservation on the counter (UpdateItem ADD, which never conflicts), sent once the quota admitted the request, and the PutItem goes at the reserved offset: still two round trips, two writes instead of one read and one write (the hot partition table below); an instance's first request to such a partition reads its tail and counter first (one more round trip, once per partition per instance). The usage write (an UpdateItem on one of the tenant's usage shards, two when it starts the shard's second) is sent alongside the puts, and the answer does not wait for it. The admission itself is decided on the instance: a read of the usage shards runs beside the request when this instance's knowledge is older than 200 ms, and is waited for first only when the instance knows nothing of the current second (one more round trip, at most once per second per instance). The first request for a topic on an instance looks it up first (one more round trip). Partitions are appended in parallel, so round trips do not grow with partitions. The targets count the appends.",
    table(
      ['fetch of written data', 'segments', 'calls per fetch', 'read units', 'S3 bytes', 'round trips', 'target'],
      r.fetchCalls.map((f) => {
        const gets = f.perRequest['S3.GetObject'] ?? 0;
        return [
          `${f.label} (5 batches, all read at once)`,
          f.segments ?? 0,
          ops(f.perRequest),
          f.readUnits.toFixed(1),
          num(f.s3Bytes),
          f.roundTrips,
          `${gets <= (f.segments ?? 0) ? '✔' : '✘'} ≤ 1 GET per segment; index queries: ${f.perRequest['DynamoDB.Query'] ?? 0}`,
        ];
      }),
    ),
    "A fetch at a known offset does, side by side: the topic's validation (GetItem, against the topic this instance last read; a deleted topic answers 404 whatever was read), the partition bounds (two Limit-1 queries: the first entry for the log start offset, the last for the high watermark) and the index query from the offset; then one ranged GET per segment object (adjacent batches of one object are read in one GET). Its fetched bytes are counted on the instance and written to a fetch usage shard with the tenant's next request there, which does not wait for it (the UpdateItem in these counts is the previous fetch's). Against the target \"one index query + ≤ 1 GET per segment\" the two bounds queries are extra: they run in parallel, so they cost read units (at least one each per fetch) but no round trip. The segment cache is off in these counts (every read pays its GET, as on a function instance that has not seen the segment before).",
  );
  // The bench's entries are 100-byte records: 1 write unit each.
  const ceilingOf = (h: BenchResults['hotPartition'][number]) => hotPartitionCeiling(h.hottestItemWritesPerAppend, 1);
  push(
    '### Hot partition: concurrent writers on one partition (measured, modelled ceiling)',
    "Each writer appends one 100-byte record (inline) to the same partition, back to back: through the HTTP API (topic lookup, quota admission, append), and through the produce service alone (the append protocol with nothing before it). Each run starts on a new partition, in its tail era: an append reads the last entry and puts its own where that one ends (`attribute_not_exists(sk)`). The first time two writers race for the tail, the loser puts a 1-offset fence there and creates the partition's counter; from then on an append reserves its offsets on the counter (`UpdateItem ADD next :n, slot :1`, which never conflicts) and puts its entry at the reserved offset (which fails only when readers fenced a reservation its writer held past the writer bound). So the attempts above 1 are the puts the first race lost, once per partition; after it an append costs two writes whatever the number of writers, where a compare-and-set on the tail alone cost (k + 1) / 2 attempts with k writers racing (4.33 measured at 16). The ceiling: the counter is one item, and DynamoDB takes at most 1,000 write units per second on one item; each reservation is 1 unit, so a partition appends at most 1,000 times per second, whatever its writers (the entries spread over sort keys of the partition's key, 1 unit per KB each). Through the API each produce also writes one of the tenant's usage shards.",
    table(
      [
        'path',
        'writers',
        'appends',
        'attempts per append',
        'lost puts per append',
        'reservations per append',
        'DynamoDB calls per append',
        'by operation',
        'read / write units per append',
        'writes to the hottest item per append',
        'modelled ceiling (appends/s per partition)',
        'refused (503)',
      ],
      r.hotPartition.map((h) => [
        h.via === 'api' ? 'HTTP API' : 'append only',
        h.writers,
        h.appends,
        h.attemptsPerAppend.toFixed(2),
        h.conflictsPerAppend.toFixed(2),
        h.reservationsPerAppend.toFixed(2),
        h.dynamoCallsPerAppend.toFixed(2),
        ops(h.byOperationPerAppend),
        `${h.readUnitsPerAppend.toFixed(2)} / ${h.writeUnitsPerAppend.toFixed(2)}`,
        h.hottestItemWritesPerAppend.toFixed(2),
        num(Math.round(ceilingOf(h))),
        h.refused,
      ]),
    ),
  );

  // CPU.
  const adm = r.admissions;
  push(
    '### Tenant admissions: the hottest item of a tenant (measured writes, modelled ceiling)',
    `${num(adm.requests)} small produce requests of one tenant after a warm-up round, every write counted by item (\`table pk sk\`): ${num(adm.itemsWritten)} items written; the most written one (${adm.hottestItem}) took ${adm.hottestItemWritesPerRequest.toFixed(4)} writes per request, so one tenant reaches DynamoDB's limit of about 1,000 writes per second on one item at **${num(adm.ceilingPerSecond)} produce requests per second** (the partition appends write a new item each, plus their partition's offset counter, left out here: it bounds the partition at 1,000 appends/s, see the hot partition table, not the tenant, whose requests spread over partitions). Admission is decided on the function instance, against what it last read of the tenant's ${USAGE_SHARDS} usage shards per direction (re-read, alongside the topic lookup, when older than ${USAGE_REFRESH_MS} ms) plus what it counted itself since; each admitted request then adds its bytes to the next shard in round robin, in parallel with its append. A refused request writes nothing.`,
    `Quota accuracy: one instance alone is exact (it admits while the window's total is under the rate, so it overshoots by less than one request). Across N instances an instance does not see the others' bytes of the last ${USAGE_REFRESH_MS} ms plus one read (the refresh runs beside a request when the instance knows the current second already), nor those of the current second before its first re-read in it: a tenant's produce (or fetch) bytes in one second stay below rate + (N − 1) × (what one instance admits in ${USAGE_REFRESH_MS} ms, at most the rate) + N requests; in the worst case, N instances that each receive the tenant's first burst of a second, N × the rate. Sustained load converges to the rate within ${USAGE_REFRESH_MS} ms of each second's start. The storage count is read the same way (it may pass maxStorageBytes by what N instances admit in ${USAGE_REFRESH_MS} ms). \`bench/tenancy-rate.ts\` measures it with several instances.`,
  );
  push(
    '## Handler CPU time per record, I/O excluded (measured)',
    `Method: the real app (routing, key check, schema validation (valibot), JSON parse, wire decoding, batch encoding with CRC-32, decoding, response JSON) over in-memory implementations of the three ports (bench/memory-ports.ts, used by nothing but this measurement), called with \`app.request\` as the Lambda adapter calls it. \`process.cpuUsage()\` (user + system) around three rounds of ${r.cpu.requests / 3} requests after a warm-up, so JIT and GC are included; the least round counts, since other processes on a shared machine only add to it. The AWS SDK's own CPU (signing, serialising) is not included.`,
    table(
      ['request', 'µs per request', 'µs per record'],
      [
        [
          `produce ${r.cpu.recordsPerRequest} × ${sizeLabel(r.cpu.recordBytes)}`,
          r.cpu.produceUsPerRequest.toFixed(0),
          r.cpu.produceUsPerRecord.toFixed(1),
        ],
        [
          `fetch ${r.cpu.recordsPerRequest} × ${sizeLabel(r.cpu.recordBytes)}`,
          r.cpu.fetchUsPerRequest.toFixed(0),
          r.cpu.fetchUsPerRecord.toFixed(1),
        ],
      ],
    ),
    `In Lambda at ${MODEL_ASSUMPTIONS.lambdaMemoryMb} MB a function gets ${(MODEL_ASSUMPTIONS.lambdaMemoryMb / MODEL_ASSUMPTIONS.lambdaFullVcpuMb).toFixed(2)} of a vCPU, so the cost model multiplies these times by ${(MODEL_ASSUMPTIONS.lambdaFullVcpuMb / MODEL_ASSUMPTIONS.lambdaMemoryMb).toFixed(2)} (and assumes a Graviton vCPU as fast as this machine's core).`,
  );

  // Log length.
  push(
    '## Fetch cost versus log length (measured)',
    'One partition filled with 10, 10^4 and 10^6 records of 100 B (index entries of 1, 1,000 and 1,000 records, written through the LogIndex port with the conditional write a produce uses, pointing at the consecutive batches of one S3 object), then fetches of 100 records from the middle through the app.',
    table(
      [
        'records',
        'index entries',
        'fill time',
        'calls per fetch (steady state)',
        'fetches that opened a quota window',
        'read units',
        'S3 bytes',
        'latency p50',
        'latency p90',
      ],
      r.logLength.map((l) => [
        num(l.records),
        num(l.indexEntries),
        `${l.writeSeconds.toFixed(1)} s`,
        ops(l.callsPerFetch),
        `${num(l.quotaWindowOpenings)} of ${num(l.fetches)} fetches`,
        l.readUnitsPerFetch.toFixed(1),
        num(l.s3BytesPerFetch),
        `${l.latencyMs.p50.toFixed(1)} ms`,
        `${l.latencyMs.p90.toFixed(1)} ms`,
      ]),
    ),
    "Calls and latency do not grow with the log. The calls are those of the measured fetch with the fewest calls; a fetch that is the tenant's first in a new second also opens the next one-second quota window, one more UpdateItem whatever the log's length, and the next column counts them. Read units grow a little up to a ceiling: the index query fetches a page of up to 100 entries (about 150 B each) whatever `maxRecords` asks for, so a partition with more than 100 entries after the offset pays about 4 units; deriving the page size from `maxRecords` and the entries' record counts would keep it at 1.",
  );

  // Cost model.
  const a = AWS_PRICES;
  push(
    '## Cost model (modelled from measured calls)',
    `Prices: ${PRICES_AS_OF}, us-east-1, in bench/prices.ts.`,
    table(
      ['item', 'price'],
      [
        ['Lambda requests', `$${(a.lambda.request * 1e6).toFixed(2)} per million`],
        ['Lambda duration, arm64', `$${a.lambda.gbSecondArm64} per GB-s (1 ms increments)`],
        ['Lambda Function URL (the default front door)', 'no charge beyond the invocation'],
        [
          'API Gateway HTTP API (opt-in front door)',
          `$${(a.apiGatewayHttp.request * 1e6).toFixed(2)} per million, metered per 512 KB`,
        ],
        [
          'DynamoDB on-demand writes',
          `$${(a.dynamodb.writeRequestUnit * 1e6).toFixed(3)} per million write request units (1 KB)`,
        ],
        [
          'DynamoDB on-demand reads',
          `$${(a.dynamodb.readRequestUnit * 1e6).toFixed(3)} per million read request units (4 KB strongly consistent)`,
        ],
        ['DynamoDB storage', `$${a.dynamodb.storageGbMonth} per GB-month`],
        ['S3 Standard PUT / GET', `$${(a.s3.put * 1000).toFixed(4)} / $${(a.s3.get * 1000).toFixed(4)} per 1,000`],
        ['S3 Standard storage', `$${a.s3.storageGbMonth} per GB-month`],
        [
          'Kinesis Data Streams on-demand',
          `$${KINESIS_ON_DEMAND.ingestGb}/GB in (records rounded up to 1 KB), $${KINESIS_ON_DEMAND.retrievalGb}/GB out, $${KINESIS_ON_DEMAND.streamHour} per stream-hour`,
        ],
        [
          'MSK Serverless',
          `$${MSK_SERVERLESS.ingestGb}/GB in, $${MSK_SERVERLESS.retrievalGb}/GB out, $${MSK_SERVERLESS.clusterHour} per cluster-hour, $${MSK_SERVERLESS.partitionHour} per partition-hour, $${MSK_SERVERLESS.storageGbMonth}/GB-month`,
        ],
        [
          'Upstash Kafka (former pay-as-you-go)',
          `$${(UPSTASH_KAFKA_FORMER.message * 100_000).toFixed(2)} per 100,000 messages`,
        ],
      ],
    ),
    `Method: for each request size, one produce of that many 1 KiB records to one partition and one fetch of exactly that batch (fetches stop at the 4 MiB limit, so "5 MiB" reads 4 MiB), recorded call by call on the local stack with their capacity units and bytes. Each call is priced (segment PUTs ${(1 + S3_PUT_HEDGED_FRACTION).toFixed(3)} times, for the hedged twins); the default front door (the API function's Function URL) adds nothing, API Gateway (opt-in) counts max(1, ⌈body / 512 KB⌉) units (JSON framing makes a 1 MiB payload a 1.07 MB body, three units); Lambda bills ${MODEL_ASSUMPTIONS.lambdaMemoryMb} MB for the measured handler CPU (scaled to the vCPU share) plus the mean modelled wait on its AWS calls (latency model below). Not included: data transfer out of AWS (the same for every service compared), CloudWatch, the maintenance function, and free tiers. GB = 2^30 bytes of record payload.`,
    table(
      [
        'request size',
        'ingest $/GB (Function URL, default)',
        'ingest $/GB (HTTP API)',
        'consume $/GB',
        `storage $/GB for ${MODEL_ASSUMPTIONS.retentionDays} days`,
        'Kinesis in / out',
        'MSK Serverless in / out',
        'Upstash (former) in / out',
      ],
      r.cost.rows.map((row) => [
        sizeLabel(row.size),
        usd(row.ingestPerGb),
        usd(row.ingestPerGbHttpApi),
        usd(row.consumePerGb),
        usd(row.storagePerGb),
        `${usd(r.cost.alternatives.kinesisOnDemand.ingest)} / ${usd(r.cost.alternatives.kinesisOnDemand.consume)}`,
        `${usd(r.cost.alternatives.mskServerless.ingest)} / ${usd(r.cost.alternatives.mskServerless.consume)}`,
        `${usd(r.cost.alternatives.upstashKafkaFormer.ingest)} / ${usd(r.cost.alternatives.upstashKafkaFormer.consume)}`,
      ]),
    ),
    `Fixed costs apart from the per-GB prices: Kinesis on-demand ${usd(r.cost.alternatives.kinesisOnDemand.fixedPerMonth)} per stream per month, MSK Serverless ${usd(r.cost.alternatives.mskServerless.fixedPerMonth)} per cluster per month plus partitions; Runnel nothing while idle (but a consumer parked in a long poll bills its wait: ${usd(3600 * (MODEL_ASSUMPTIONS.lambdaMemoryMb / 1024) * a.lambda.gbSecondArm64)} per hour per waiting consumer at ${MODEL_ASSUMPTIONS.lambdaMemoryMb} MB, plus ${usd(reChecksPerHour(r.latency.pollIntervalMs) * a.dynamodb.readRequestUnit)} per hour of tail re-checks).`,
    '![Cost per GB by request size](cost-per-gb.svg)',
    'Cost of one request through the default front door, by line item ($ per million requests; API Gateway adds its fee when it is the front door):',
    table(
      [
        'request',
        'API Gateway',
        'Lambda requests',
        'Lambda duration',
        'DynamoDB reads',
        'DynamoDB writes',
        'S3 PUT',
        'S3 GET',
        'total',
      ],
      r.cost.rows.flatMap((row) => [
        breakdownRow(`produce ${sizeLabel(row.size)}`, row.produce),
        breakdownRow(`fetch ${sizeLabel(row.fetchProfile.payloadBytes)}`, row.fetch),
      ]),
    ),
    `Break-even request size (where Runnel's $/GB equals the other service's, log-log interpolation between measured sizes): ingest vs Kinesis on-demand ${r.cost.breakEven.kinesisIngest ? sizeLabel(Math.round(r.cost.breakEven.kinesisIngest)) : 'n/a'} via the Function URL (the default), ${r.cost.breakEven.kinesisIngestHttpApi ? sizeLabel(Math.round(r.cost.breakEven.kinesisIngestHttpApi)) : 'n/a'} via API Gateway HTTP API; ingest vs MSK Serverless ${r.cost.breakEven.mskIngest ? sizeLabel(Math.round(r.cost.breakEven.mskIngest)) : 'n/a'}; consume vs Kinesis ${r.cost.breakEven.kinesisConsume ? sizeLabel(Math.round(r.cost.breakEven.kinesisConsume)) : 'n/a'}. Below these sizes the per-request prices (Lambda, the S3 PUT, and API Gateway when it is the front door) dominate: clients should batch.`,
  );

  // Inline threshold.
  const s0 = r.inline.scenarios[0];
  push(
    '## The inline threshold (measured calls, priced)',
    `Each size is produced twice on the local stack, once forced inline into the index item and once forced into an S3 object (the produce service's \`inlineMaxBytes\`), then fetched back; both are priced over a batch's life: the produce, storage for the retention period (DynamoDB $${a.dynamodb.storageGbMonth} vs S3 $${a.s3.storageGbMonth} per GB-month), and each consumer's fetch, plus, for inline, the extra read units of each consumer's long-poll re-check of the partition tail, which reads the whole last item. The measured units show the mechanism: an inline item costs a write unit per KB, and every Limit-1 tail or bounds read of it costs a read unit per 4 KB (a produce reads the previous entry, a fetch reads both ends of the partition), against a flat $0.005 PUT and $0.0004 GET.`,
    table(
      [
        'size',
        'inline: write units',
        'inline: fetch read units',
        'S3: fetch read units',
        '$ per million batches, inline',
        '$ per million batches, S3',
        'cheaper',
      ],
      (s0?.rows ?? []).map((row) => [
        sizeLabel(row.size),
        row.inlineWriteUnits,
        row.inlineFetchReadUnits,
        row.objectFetchReadUnits,
        perMillion(row.inline),
        perMillion(row.object),
        row.inline < row.object ? 'inline' : 'S3',
      ]),
    ),
    table(
      ['consumers', 'retention', 'crossover (S3 cheaper above)'],
      r.inline.scenarios.map((s) => [
        s.consumers,
        `${s.retentionDays} d`,
        s.crossover ? sizeLabel(Math.round(s.crossover)) : 'none in range',
      ]),
    ),
    inlineVerdict(r),
  );

  // Latency.
  const dist = Object.entries(LATENCY_DISTRIBUTIONS).map(([name, d]) => [
    name,
    `${d.p50Ms} ms`,
    `${d.p99Ms} ms`,
    d.source,
  ]);
  push(
    '## Latency model (modelled from the measured call sequences)',
    `Method: the calls of one produce and one fetch recorded on the local stack are replayed ${num(r.latency.small.samples.produce.length)} times with per-call latencies drawn from lognormal distributions fixed by the p50 and p99 below (S3 calls add bytes at ${S3_STREAM_BYTES_PER_MS / 1000} MB/s, an assumption); a call starts when every call that had finished before it locally has finished in the model, so parallel calls stay parallel; the answer waits for every call but the usage shards' reads and writes, which are sent beside it (shared/services/quotas.ts) and delay only the calls that started after them. Handler CPU (measured after up to 1,000 warm-up requests, as on a warm instance, and scaled to the Lambda vCPU share) and the front door's request overhead (the default Function URL; API Gateway in the last rows) are added. End to end: the producer's index write commits; a consumer in another instance is in a long poll that re-reads the partition tail every ${r.latency.pollIntervalMs} ms (shared/services/long-poll.ts) at a random phase; the first re-check that starts after the commit sees the records; the fetch then reads the bounds and the records and answers. Segment PUTs are hedged as the code does it (shared/services/hedge.ts): a PUT unanswered after ${SEGMENT_PUT_HEDGE_AFTER_MS} ms gets a twin (the same bytes under its own key) and the first answer counts, so a PUT takes min(X₁, ${SEGMENT_PUT_HEDGE_AFTER_MS} ms + X₂): p99 ${ms(hedgedPutP99())} instead of ${LATENCY_DISTRIBUTIONS.s3Put.p99Ms} ms, at ${(S3_PUT_HEDGED_FRACTION * 100).toFixed(1)}% more PUTs (priced in the cost model). Cold starts, retries and throttling are not modelled.`,
    table(['call', 'p50', 'p99', 'source'], dist),
    table(
      ['path', 'p50', 'p90', 'p99', 'sequential AWS round trips'],
      (
        [
          ['produce, 1 KiB record (inline)', 'small', 'produce'],
          ['fetch, 1 KiB record (inline)', 'small', 'fetch'],
          ['end to end, 1 KiB record', 'small', 'endToEnd'],
          ['produce, 100 × 1 KiB (S3)', 'batch', 'produce'],
          ['fetch, 100 × 1 KiB (S3)', 'batch', 'fetch'],
          ['end to end, 100 × 1 KiB', 'batch', 'endToEnd'],
          ['produce, 1 KiB record, through API Gateway', 'smallApiGateway', 'produce'],
          ['end to end, 1 KiB record, through API Gateway', 'smallApiGateway', 'endToEnd'],
        ] as const
      ).map(([label, kind, path]) => {
        const model = r.latency[kind];
        return [label, ms(model[path].p50), ms(model[path].p90), ms(model[path].p99), model.roundTrips[path]];
      }),
    ),
    `Round trips: produce = topic validation, offset reservation [and S3 PUT] side by side → the entry's conditional put (the usage write alongside, which the answer does not wait for); fetch = topic validation, bounds and index query side by side [→ S3 GET]; end to end = the produce up to its commit, the consumer's tail re-check, bounds and index query in parallel [→ S3 GET]. Anchors: Kinesis Data Streams ~200 ms end to end with polling consumers; WarpStream p50 500 ms / p99 900 ms end to end. The long-poll interval is the largest single term of the end-to-end figure (on average half of it): ${r.latency.pollIntervalMs} ms costs ${num(Math.round(reChecksPerHour(r.latency.pollIntervalMs)))} strongly consistent 1-item reads per hour per watched partition per instance (1 read unit while the tail entry is at most 4 KB, 2 for an inline entry up to 8 KiB), ${usd(reChecksPerHour(r.latency.pollIntervalMs) * AWS_PRICES.dynamodb.readRequestUnit)} per waiting consumer-hour, against ${usd(3600 * (MODEL_ASSUMPTIONS.lambdaMemoryMb / 1024) * AWS_PRICES.lambda.gbSecondArm64)} for the Lambda time that consumer holds; consumers waiting on one partition in one instance share the reads. A 100 ms interval would make ${((100 + LATENCY_DISTRIBUTIONS.dynamodbRead.p50Ms) / (r.latency.pollIntervalMs + LATENCY_DISTRIBUTIONS.dynamodbRead.p50Ms)).toFixed(1)}× fewer reads and add about ${Math.round((100 - r.latency.pollIntervalMs) / 2)} ms to the median end to end.`,
    '![Latency CDF, one record](latency-small.svg)',
    '![Latency CDF, 100-record batch](latency-batch.svg)',
  );

  push(
    '## What is measured and what is modelled',
    '- Measured on this machine: local throughput; NATS JetStream throughput; AWS calls per request by operation, DynamoDB capacity units and S3 bytes (exact, independent of the machine); hot-partition attempts; handler CPU; fetch cost versus log length.',
    '- Modelled: dollars (measured calls × list prices, plus Lambda duration from measured CPU and modelled waits) and AWS latencies (measured call sequences × published or assumed per-call distributions).',
    '- The emulators are not AWS: local latencies say nothing about AWS latencies, and dynalite has no partition throughput limits (a hot partition in AWS is also bounded by 1,000 write units per second per partition key).',
  );
  return out.join('\n');
};

const inlineVerdict = (r: BenchResults) => {
  const base = r.inline.scenarios[0];
  if (!base) return '';
  const crossover = base.crossover;
  const others = r.inline.scenarios
    .slice(1)
    .map(
      (s) =>
        `${s.consumers} consumer(s), ${s.retentionDays} d: ${s.crossover ? sizeLabel(Math.round(s.crossover)) : 'none'}`,
    )
    .join('; ');
  if (crossover === undefined)
    return `Inline stays cheaper over the whole measured range for 1 consumer and 7-day retention (${others}).`;
  const recommended = Math.max(1, Math.floor(crossover / KiB)) * KiB;
  const current = r.inline.current;
  const verdict =
    Math.abs(recommended - current) <= KiB
      ? `The current ${sizeLabel(current)} sits at the crossover: keep it.`
      : recommended < current
        ? `The current ${sizeLabel(current)} is above the crossover: lower it to ${sizeLabel(recommended)}.`
        : `The current ${sizeLabel(current)} is below the crossover: raise it to ${sizeLabel(recommended)}.`;
  return `For the default case (1 consumer, 7-day retention) storing inline is cheaper up to ${sizeLabel(Math.round(crossover))}. ${verdict} The crossover moves with the workload (${others}): more consumers and longer retention favour S3, because inline bytes are paid again on every tail and bounds read and stored at 11× the S3 price; a produce with no consumer favours inline. Inline also saves the S3 PUT round trip (tens of ms) on the produce path.`;
};
