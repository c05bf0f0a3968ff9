import { LruMap } from '#shared/domain/bounded-cache';
import type { ObjectPage, SegmentStore } from '#shared/ports/segment-store';

/** What an entry counts against the budget (at least 1, so empty ranges are bounded too). */
const sizeOf = (value: Uint8Array) => Math.max(1, value.byteLength);

/**
 * Segment objects are immutable, so their bytes can be kept in a warm function's memory
 * without ever being stale. Objects this instance wrote are kept whole (a consumer on the
 * same instance reads them without a GET); ranges it read are kept as read. Least recently
 * used entries go first once `maxBytes` is exceeded.
 */
export class CachingSegmentStore implements SegmentStore {
  /** Least recently used first; bounded by their bytes. */
  private readonly entries: LruMap<string, Uint8Array>;

  constructor(
    private readonly inner: SegmentStore,
    private readonly maxBytes: number,
  ) {
    this.entries = new LruMap(maxBytes, sizeOf);
  }

  private remember(key: string, value: Uint8Array): void {
    // An object larger than a quarter of the budget would push out too much to be worth it.
    if (sizeOf(value) > this.maxBytes / 4) return;
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
    return this.entries.weight;
  }
}
