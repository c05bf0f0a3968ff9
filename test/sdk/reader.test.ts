import { Runnel, RunnelError } from '@runnel/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpStack, startHttpStack } from './http-stack';

let h: HttpStack;
let runnel: Runnel;
beforeAll(async () => {
  h = await startHttpStack();
  runnel = new Runnel({ url: h.url, apiKey: h.stack.apiKey });
  await runnel.topics.create({ name: 'log', partitions: 3 });
});
afterAll(async () => {
  await h?.close();
});

const collect = async (
  reader: AsyncIterable<{ records: { partition: number; offset: number; value: string | null }[] }>,
  n: number,
) => {
  const out: { partition: number; offset: number; value: string | null }[] = [];
  for await (const batch of reader) {
    out.push(...batch.records.map((r) => ({ partition: r.partition, offset: r.offset, value: r.value })));
    if (out.length >= n) break;
  }
  return out;
};

describe('SDK reader and consumer controls', () => {
  it('reads a whole topic from the beginning, a partition from a time, and resumes exactly', async () => {
    const first = await runnel.produce(
      'log',
      Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    );
    const all = runnel.reader({ topic: 'log', from: 'earliest', waitMs: 1000 });
    const got = await collect(all, 9);
    expect(got.map((r) => r.value).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8']);
    const position = all.position();
    expect(position).toBe('0:3,1:3,2:3');
    // More records; a reader resuming from the position sees exactly the new ones.
    await runnel.produce('log', [
      { partition: 0, value: 'w0' },
      { partition: 2, value: 'w2' },
    ]);
    const resumed = await collect(runnel.reader({ topic: 'log', from: { resume: position }, waitMs: 1000 }), 2);
    expect(resumed.map((r) => `${r.partition}:${r.offset}:${r.value}`).sort()).toEqual(['0:3:w0', '2:3:w2']);
    // From a timestamp on one partition: the first offset at or after it.
    const t = (first[4] as { timestamp: number }).timestamp;
    const fromTime = await collect(
      runnel.reader({ topic: 'log', partitions: 1, from: { timestamp: t }, waitMs: 1000 }),
      1,
    );
    expect(fromTime[0]?.partition).toBe(1);
    expect(fromTime[0]?.offset).toBeLessThanOrEqual(1);
    expect(() => runnel.reader({ topic: 'log', waitMs: 30_000 })).toThrow(/waitMs/);
  });

  it('manual commit, seek, pause and resume; the iterator commits on close; problems are typed', async () => {
    await runnel.topics.create({ name: 'ctl', partitions: 1 });
    await runnel.produce(
      'ctl',
      Array.from({ length: 5 }, (_, i) => ({ value: `c${i}` })),
    );
    const consumer = runnel.consumer({
      groupId: 'g-ctl',
      topics: ['ctl'],
      autoOffsetReset: 'earliest',
      autoCommit: false,
      waitMs: 500,
    });
    const seen: string[] = [];
    let seeked = false;
    for await (const batch of consumer) {
      for (const r of batch.records) seen.push(r.value as string);
      if (!seeked) {
        seeked = true;
        await consumer.commit([{ topic: 'ctl', partition: 0, offset: 2 }]);
        consumer.seek({ topic: 'ctl', partition: 0, offset: 3 });
        continue;
      }
      break; // return(): close, which commits what was processed (auto-commit off: nothing more)
    }
    expect(seen.slice(0, 5)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(seen.slice(5)).toEqual(['c3', 'c4']);
    expect((await runnel.groups.offsets('g-ctl'))[0]?.offset).toBe(2);

    const paused = runnel.consumer({ groupId: 'g-ctl2', topics: ['ctl'], autoOffsetReset: 'earliest', waitMs: 500 });
    let count = 0;
    const run = paused.run({
      eachBatch: ({ batch }) => {
        count += batch.records.length;
        paused.pause([{ topic: 'ctl' }]);
      },
    });
    await new Promise<void>((r) => paused.on('commit', () => r()));
    expect(paused.paused()).toEqual([{ topic: 'ctl', partitions: [0] }]);
    await runnel.produce('ctl', [{ value: 'c5' }]);
    paused.resume([{ topic: 'ctl' }]);
    await new Promise<void>((r) => paused.on('commit', (e) => e.offsets[0]?.offset === 6 && r()));
    expect(count).toBe(6);
    await paused.close();
    await run;

    const missing = await runnel.fetch('ctl', 0, { offset: 99 }).catch((e) => e);
    expect(missing).toBeInstanceOf(RunnelError);
    expect(missing).toMatchObject({
      code: 'offset_out_of_range',
      status: 416,
      logStartOffset: 0,
      highWatermark: 6,
      retriable: false,
    });
    expect(() => runnel.consumer({ groupId: 'g', topics: ['ctl'], sessionTimeoutMs: 5 })).toThrow(/sessionTimeoutMs/);
  });
});
