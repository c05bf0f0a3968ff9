import type { SegmentStore } from '#shared/ports/segment-store';

/**
 * Segment objects are immutable, so their bytes can be kept in a warm function's memory
 * without ever being stale. Objects this instance wrote are kept whole (a consumer on the
 * same instance reads them without a GET); ranges it read are kept as read. Least recently
 * used entries go first once `maxBytes` is exceeded.
 */
export class CachingSegmentStore implements SegmentStore {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(
    private readonly inner: SegmentStore,
    private readonly maxBytes: number,
  ) {}

  private remember(key: string, value: Uint8Array): void {
    if (value.byteLength > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.bytes += value.byteLength;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  private recall(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      // Move to the most recently used end.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
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

  get cachedBytes(): number {
    return this.bytes;
  }
}
