/**
 * Compaction figures: objects and S3 GETs needed to read a partition's history written
 * as many small produce batches, before and after compaction; DynamoDB index items per
 * GB retained; the maintenance job's calls per run (with work, sweeping orphans, idle).
 *
 *   npx tsx bench/compaction.ts            # 10 MB (also part of `npm run bench`) as 1,000 batches of 10 KB (scale x10 for 100 MB)
 *   BENCH_MB=100 npx tsx bench/compaction.ts
 *
 * Runs against the in-process emulators through the real SDK clients and counts calls
 * with SdkCallCounter; the counts are what AWS would bill, the timings are not AWS's.
 */
import { pathToFileURL } from 'node:url';
import { awsPorts } from '#shared/adapters/aws';
import { DEFAULT_LIMITS, FETCH_LIMITS, HOUR, KiB, MINUTE, MiB } from '#shared/constants';
import type { PartitionRef } from '#shared/ports/log-index';
import { MaintenanceJob } from '#shared/services/maintenance';
import { allEntries, startStack } from '../test/harness';

/** Writes `totalMb` of history as 10 KiB batches, compacts it, and prints the figures. */
export const benchCompaction = async (totalMb = Number(process.env.BENCH_MB ?? 10)) => {
  const batchBytes = 10 * KiB;
  const recordsPerBatch = 10;
  const batches = Math.round((totalMb * MiB) / batchBytes);

  let now = Date.now();
  const clock = () => now;
  const stack = await startStack({ clock, tenant: { name: 'bench' } });
  const { calls, services } = stack;
  const ports = awsPorts(stack.emulators, stack.emulators.storage);
  const topic = await services.topics.create(
    stack.tenantId,
    { name: 'history', partitions: 1, retentionMs: -1 },
    DEFAULT_LIMITS,
  );
  const ref: PartitionRef = { tenantId: topic.tenantId, topicId: topic.topicId, partition: 0 };

  const value = new Uint8Array(batchBytes / recordsPerBatch - 40).fill(120);
  const started = Date.now();
  for (let i = 0; i < batches; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, batches - i) }, () =>
        services.producer.produce(
          topic,
          Array.from({ length: recordsPerBatch }, () => ({
            key: null,
            value,
            headers: [],
            timestamp: undefined,
            partition: 0,
          })),
          { limits: DEFAULT_LIMITS },
        ),
      ),
    );
  }
  const writeSeconds = (Date.now() - started) / 1000;

  const describeIndex = async () => {
    const list = await allEntries(ports.index, ref);
    const objects = new Set(list.flatMap((e) => (e.location.kind === 'object' ? [e.location.objectKey] : [])));
    const inline = list.filter((e) => e.location.kind === 'inline').length;
    const retained = list.reduce((n, e) => n + e.sizeBytes, 0);
    return { entries: list.length, inline, objects: objects.size, retainedBytes: retained };
  };

  /** Reads the whole partition as a consumer would: fetches of FETCH_LIMITS.maxBytes. */
  const readHistory = async () => {
    calls.reset();
    let offset = 0;
    let records = 0;
    let fetches = 0;
    for (;;) {
      const result = await services.reader.read(
        ref,
        offset,
        { maxRecords: FETCH_LIMITS.maxRecords, maxBytes: FETCH_LIMITS.maxBytes },
        -1,
      );
      fetches += 1;
      records += result.records.length;
      if (result.records.length === 0) break;
      offset = result.nextOffset;
    }
    return { records, fetches, s3Gets: calls.get('S3.GetObject'), dynamoQueries: calls.get('DynamoDB.Query') };
  };

  const stage = (name: string) => process.stderr.write(`… ${name}\n`);
  stage('written');
  const before = await describeIndex();
  const readBefore = await readHistory();

  stage('read before');
  // 30 minutes later every batch but the last is older than the safety age.
  now += 30 * MINUTE;
  const job = new MaintenanceJob({ ...ports, clock }, { maxRunMs: HOUR, maxWritesPerRun: 1_000_000 });
  calls.reset();
  const compactStarted = Date.now();
  const compactReport = await job.run();
  const compactSeconds = (Date.now() - compactStarted) / 1000;
  const compactCalls = calls.snapshot();

  stage('compacted');
  const after = await describeIndex();
  const readAfter = await readHistory();

  stage('read after');
  // Two hours on, the orphan sweep deletes the objects compaction replaced.
  now += 2 * HOUR;
  calls.reset();
  const sweepReport = await new MaintenanceJob({ ...ports, clock }, { orphanSweepIntervalMs: 0 }).run();
  const sweepCalls = calls.snapshot();

  calls.reset();
  await new MaintenanceJob({ ...ports, clock }).run();
  const idleCalls = calls.snapshot();

  const perGb = (entries: number, bytes: number) => Math.round((entries * 1024 * MiB) / bytes);
  const lines = [
    `History: ${totalMb} MB as ${batches} produce batches of ${batchBytes / KiB} KiB (${recordsPerBatch} records each), one partition; written in ${writeSeconds.toFixed(1)} s.`,
    '',
    '| | index entries | objects | S3 GETs to read all | fetches | index queries | DynamoDB items per GB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| before compaction | ${before.entries} (${before.inline} inline) | ${before.objects} | ${readBefore.s3Gets} | ${readBefore.fetches} | ${readBefore.dynamoQueries} | ${perGb(before.entries, before.retainedBytes)} |`,
    `| after compaction | ${after.entries} | ${after.objects} | ${readAfter.s3Gets} | ${readAfter.fetches} | ${readAfter.dynamoQueries} | ${perGb(after.entries, after.retainedBytes)} |`,
    '',
    `Records read: ${readBefore.records} before, ${readAfter.records} after.`,
    `Compaction run (${compactSeconds.toFixed(1)} s): ${compactReport.segmentsWritten} segments from ${compactReport.entriesFolded} entries; calls ${JSON.stringify(compactCalls)}`,
    `Orphan sweep run: ${sweepReport.orphansDeleted} objects deleted; calls ${JSON.stringify(sweepCalls)}`,
    `Idle run (1 topic, 1 partition, nothing to do): calls ${JSON.stringify(idleCalls)}`,
  ];
  console.log(lines.join('\n'));

  await stack.close();
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await benchCompaction();
