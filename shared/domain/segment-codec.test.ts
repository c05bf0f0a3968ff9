import { describe, expect, it } from 'vitest';
import type { ProducedRecord } from './records';
import { BATCH_HEADER_BYTES, CorruptBatchError, decodeBatches, encodeBatch } from './segment-codec';

const bytes = (s: string) => new TextEncoder().encode(s);

const sample: ProducedRecord[] = [
  { key: bytes('k1'), value: bytes('v1'), headers: [], timestamp: 1_700_000_000_000 },
  { key: null, value: null, headers: [{ key: 'trace', value: bytes('abc') }], timestamp: undefined },
  {
    key: new Uint8Array([0, 255, 128]),
    value: bytes('ünïcödé'),
    headers: [
      { key: 'a', value: null },
      { key: 'ключ', value: new Uint8Array(0) },
    ],
    timestamp: 0,
  },
];

describe('segment codec', () => {
  it('round-trips records, nulls, headers and producer timestamps', () => {
    const batch = encodeBatch(sample);
    const out = decodeBatches(batch, { baseOffset: 40, appendTime: 1_800_000_000_000 });
    expect(out.map((r) => r.offset)).toEqual([40, 41, 42]);
    expect(out[0]?.timestamp).toBe(1_700_000_000_000);
    // No producer timestamp: the append time stands in (Kafka's LogAppendTime).
    expect(out[1]?.timestamp).toBe(1_800_000_000_000);
    expect(out[2]?.timestamp).toBe(0);
    expect(out.every((r) => r.appendTime === 1_800_000_000_000)).toBe(true);
    expect(out[0]?.key).toEqual(bytes('k1'));
    expect(out[1]?.key).toBeNull();
    expect(out[1]?.value).toBeNull();
    expect(out[1]?.headers).toEqual([{ key: 'trace', value: bytes('abc') }]);
    expect(out[2]?.key).toEqual(new Uint8Array([0, 255, 128]));
    expect(out[2]?.headers).toEqual([
      { key: 'a', value: null },
      { key: 'ключ', value: new Uint8Array(0) },
    ]);
  });

  it('decodes back-to-back batches with dense offsets and their own append times', () => {
    const a = encodeBatch(sample.slice(0, 2), 1000);
    const b = encodeBatch(sample.slice(2), 2000);
    const out = decodeBatches(Buffer.concat([a, b]), { baseOffset: 7, appendTime: 5 });
    expect(out.map((r) => [r.offset, r.appendTime])).toEqual([
      [7, 1000],
      [8, 1000],
      [9, 2000],
    ]);
  });

  it('decodes an empty batch', () => {
    expect(decodeBatches(encodeBatch([]), { baseOffset: 0, appendTime: 1 })).toEqual([]);
  });

  it('detects a flipped byte in the body', () => {
    const batch = encodeBatch(sample);
    batch[BATCH_HEADER_BYTES + 10] = (batch[BATCH_HEADER_BYTES + 10] as number) ^ 0xff;
    expect(() => decodeBatches(batch, { baseOffset: 0, appendTime: 1 })).toThrow(CorruptBatchError);
  });

  it('detects truncation and a bad magic byte', () => {
    const batch = encodeBatch(sample);
    expect(() => decodeBatches(batch.subarray(0, batch.length - 1), { baseOffset: 0, appendTime: 1 })).toThrow(
      /truncated/,
    );
    const bad = Buffer.from(batch);
    bad[0] = 0;
    expect(() => decodeBatches(bad, { baseOffset: 0, appendTime: 1 })).toThrow(/magic/);
  });
});
