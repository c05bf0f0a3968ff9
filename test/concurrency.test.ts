import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGap } from '#shared/ports/log-index';
import { partitionRef, type Stack, startStack } from './harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

describe('one hot partition, many producers (invariants 1-3)', () => {
  it('16 concurrent producers: offsets unique and dense, each request contiguous, every acked record readable', async () => {
    await stack.api.post('/v1/topics', { name: 'hot', partitions: 1 });
    const producers = 16;
    const requestsEach = 3;
    const perRequest = 4;
    const acked: { value: string; offset: number; request: string }[] = [];

    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let r = 0; r < requestsEach; r++) {
          const request = `p${p}-r${r}`;
          const values = Array.from({ length: perRequest }, (_, i) => `${request}-i${i}`);
          // Mix inline and S3-backed batches so both paths race each other.
          const pad = r % 2 === 0 ? '' : ':'.padEnd(3000, 'x');
          const res = await stack.api.post('/v1/topics/hot/records', {
            records: values.map((value) => ({ value: value + pad })),
          });
          expect(res.status).toBe(200);
          const offsets: number[] = res.body.offsets.map((o: any) => o.offset);
          // A request's records for one partition are contiguous and in input order.
          offsets.forEach((offset, i) => {
            expect(offset).toBe((offsets[0] as number) + i);
            acked.push({ value: values[i] + pad, offset, request });
          });
        }
      }),
    );

    const total = producers * requestsEach * perRequest;
    expect(acked).toHaveLength(total);
    const offsets = acked.map((a) => a.offset).sort((a, b) => a - b);
    // Unique, and dense but for the one offset of the fence where the first race ended the
    // partition's tail era (docs/offset-protocol.md): no writer died, so no other gap.
    expect(new Set(offsets).size).toBe(total);
    const end = (offsets.at(-1) as number) + 1;
    const missing = Array.from({ length: end }, (_, i) => i).filter((o) => !offsets.includes(o));
    expect(missing.length).toBeLessThanOrEqual(1);
    const ref = await partitionRef(stack, 'hot', 0);
    const { entries } = await stack.deps.index.entriesFrom(ref, 0, 1_000);
    expect(entries.filter(isGap).map((e) => [e.baseOffset, e.recordCount, e.slot])).toEqual(
      missing.map((o) => [o, 1, -1]),
    );

    // Read everything back from offset 0 in pages; offsets only go forward, none skipped.
    const read: { offset: number; value: string }[] = [];
    let next = 0;
    for (;;) {
      const page = await stack.api.get(`/v1/topics/hot/partitions/0/records?offset=${next}&maxRecords=37`);
      expect(page.status).toBe(200);
      expect(page.body.highWatermark).toBe(end);
      if (page.body.records.length === 0) break;
      for (const record of page.body.records) {
        expect(record.offset).toBe(offsets[read.length]);
        read.push({ offset: record.offset, value: record.value });
      }
      expect(page.body.nextOffset).toBeGreaterThan(next);
      next = page.body.nextOffset;
    }
    expect(read).toHaveLength(total);
    const byOffset = new Map(read.map((r) => [r.offset, r.value]));
    for (const a of acked) expect(byOffset.get(a.offset)).toBe(a.value);

    // Within one producer, later requests got later offsets (per-partition ordering).
    for (let p = 0; p < producers; p++) {
      const mine = acked.filter((a) => a.request.startsWith(`p${p}-`)).map((a) => a.offset);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  }, 180_000);

  it('the high watermark seen by readers never moves backwards while writers append', async () => {
    await stack.api.post('/v1/topics', { name: 'watermark', partitions: 1 });
    let writing = true;
    const writers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 15; i++) {
        const res = await stack.api.post('/v1/topics/watermark/records', { records: [{ value: `v${i}` }] });
        expect(res.status).toBe(200);
      }
    });
    const seen: number[] = [];
    const reader = (async () => {
      while (writing) {
        const res = await stack.api.get('/v1/topics/watermark/partitions/0/records?offset=earliest&maxRecords=1000');
        seen.push(res.body.highWatermark);
        // Everything below the high watermark is readable at once (all but the fence's one offset, if any).
        const records: { offset: number }[] = res.body.records;
        expect(records.length).toBeGreaterThanOrEqual(res.body.highWatermark - 1);
        expect(records.every((r) => r.offset < res.body.highWatermark)).toBe(true);
      }
    })();
    await Promise.all(writers);
    writing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1] as number);
  }, 120_000);
});
