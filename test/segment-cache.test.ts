import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulators, startEmulators } from '#local/emulators';
import { S3SegmentStore } from '#shared/adapters/s3/segment-store';
import { SdkCallCounter } from '#shared/adapters/sdk-call-counter';
import { CachingSegmentStore } from '#shared/services/segment-cache';

let emulators: Emulators;
let dir: string;
let s3: S3SegmentStore;
const calls = new SdkCallCounter();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runnel-cache-'));
  emulators = await startEmulators({ s3Dir: dir });
  calls.attach(emulators.s3, 'S3');
  s3 = new S3SegmentStore(emulators.s3, emulators.storage.bucket);
});
afterAll(async () => {
  await emulators.close();
  rmSync(dir, { recursive: true, force: true });
});

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const gets = () => calls.get('S3.GetObject');

describe('CachingSegmentStore over S3', () => {
  it('serves ranges of objects it wrote without reading them back', async () => {
    const cache = new CachingSegmentStore(s3, 1000);
    const body = Uint8Array.from({ length: 100 }, (_, i) => i);
    await cache.put('t/a', body);
    const before = gets();
    expect(await cache.getRange('t/a', 10, 5)).toEqual(Uint8Array.from([10, 11, 12, 13, 14]));
    expect(gets()).toBe(before);
    // It was really written.
    expect(await s3.getRange('t/a', 98, 2)).toEqual(Uint8Array.from([98, 99]));
  });

  it('reads a range once, then serves it from memory', async () => {
    await s3.put('t/b', bytes(50, 7));
    const cache = new CachingSegmentStore(s3, 1000);
    const before = gets();
    expect(await cache.getRange('t/b', 0, 20)).toEqual(bytes(20, 7));
    await cache.getRange('t/b', 0, 20);
    expect(gets()).toBe(before + 1);
    await cache.getRange('t/b', 20, 20);
    expect(gets()).toBe(before + 2);
  });

  it('evicts the least recently used entries beyond its budget', async () => {
    const cache = new CachingSegmentStore(s3, 400);
    for (const key of ['t/x', 't/y', 't/z']) await cache.put(key, bytes(100, 1));
    await cache.getRange('t/x', 0, 10); // x becomes the most recent
    await cache.put('t/w', bytes(100, 2)); // 400 bytes: still fits
    await cache.put('t/v', bytes(100, 3)); // over budget: y, the least recent, goes
    expect(cache.cachedBytes).toBe(400);
    const before = gets();
    await cache.getRange('t/x', 0, 10);
    expect(gets()).toBe(before);
    await cache.getRange('t/y', 0, 10);
    expect(gets()).toBe(before + 1);
  });

  it('does not keep objects larger than a quarter of its budget', async () => {
    const cache = new CachingSegmentStore(s3, 400);
    await cache.put('t/big', bytes(200, 1));
    expect(cache.cachedBytes).toBe(0);
    const before = gets();
    await cache.getRange('t/big', 0, 200);
    await cache.getRange('t/big', 0, 200);
    expect(gets()).toBe(before + 2);
  });
});
