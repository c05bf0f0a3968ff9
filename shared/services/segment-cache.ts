import { LRUCache } from 'lru-cache';
import type { ObjectPage, SegmentStore } from '#shared/ports/segment-store';

/**
 * Segment objects are immutable, so their bytes can be kept in a warm function's memory
 * without ever being stale. Objects this instance wrote are kept whole (a consumer on the
 * same instance reads them without a GET); ranges it read are kept as read. Least recently
 * used entries go first once `maxBytes` is exceeded.
 */
export class CachingSegmentStore implements SegmentStore {
  private readonly entries: LRUCache<string, Uint8Array>;

  constructor(
    private readonly inner: SegmentStore,
    maxBytes: number,
  ) {
    this.entries = new LRUCache({
      maxSize: maxBytes,
      // An object larger than a quarter of the budget would push out too much to be worth it.
      maxEntrySize: maxBytes / 4,
      sizeCalculation: (value) => Math.max(1, value.byteLength),
    });
  }

  private remember(key: string, value: Uint8Array): void {
    this.entries.set(key, value);
  }

  private recall(key: string): Uint8Array | undefined {
    return this.entries.get(key);
  }

  async put(objectKey: string, body: Uint8Array): Promise<void> {
    await this.inner.put(objectKey, body);
    this.remember(`o:${objectKey}`, body);
  }

  async getRange(objectKey: string, start: number, length: number): Promise<Uint8Array> {
    const whole = this.recall(`o:${objectKey}`);
    if (whole && start + length <= whole.byteLength) return whole.subarray(start, start + length);
    const rangeKey = `r:${objectKey}:${start}:${length}`;
    const cached = this.recall(rangeKey);
    if (cached) return cached;
    const bytes = await this.inner.getRange(objectKey, start, length);
    this.remember(rangeKey, bytes);
    return bytes;
  }

  list(prefix: string, options?: { startAfter?: string; limit?: number }): Promise<ObjectPage> {
    return this.inner.list(prefix, options);
  }

  /** Cached bytes of a deleted object stay valid (objects are immutable) and age out as usual. */
  delete(objectKeys: readonly string[]): Promise<void> {
    return this.inner.delete(objectKeys);
  }

  get cachedBytes(): number {
    return this.entries.calculatedSize;
  }
}
