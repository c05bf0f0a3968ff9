import { describe, expect, it } from 'vitest';
import type { Topic } from '#shared/ports/metadata-store';
import { requestHash, seededRandom } from './exactly-once';
import { type ProduceInput, ProduceService } from './produce';

describe('requestHash', () => {
  it('ignores key order and whitespace but not content, method or path', () => {
    const a = requestHash('POST', '/v1/topics/t/records', { records: [{ value: 'x', key: 'k' }], encoding: 'utf8' });
    const b = requestHash('post', '/v1/topics/t/records', { encoding: 'utf8', records: [{ key: 'k', value: 'x' }] });
    expect(a).toBe(b);
    expect(
      requestHash('POST', '/v1/topics/u/records', { records: [{ value: 'x', key: 'k' }], encoding: 'utf8' }),
    ).not.toBe(a);
    expect(
      requestHash('POST', '/v1/topics/t/records', { records: [{ value: 'y', key: 'k' }], encoding: 'utf8' }),
    ).not.toBe(a);
    expect(
      requestHash('POST', '/v1/topics/t/records', { records: [{ value: 'x', key: 'k' }], encoding: 'base64' }),
    ).not.toBe(a);
  });
});

describe('seededRandom', () => {
  it('plans keyless records the same way for the same writer id, and spreads writer ids', () => {
    const topic = { partitions: 16 } as Topic;
    const records = [
      { key: null, value: new Uint8Array(), headers: [], partition: undefined },
    ] as unknown as ProduceInput[];
    const plan = (writerId: string) => ProduceService.assignPartitions(topic, records, seededRandom(writerId))[0];
    expect(plan('writer-1')).toBe(plan('writer-1'));
    const used = new Set(Array.from({ length: 200 }, (_, i) => plan(`writer-${i}`)));
    expect(used.size).toBeGreaterThan(8);
  });
});
