/**
 * Per-tenant usage shared by every function instance: bytes produced and fetched per
 * one-second window, and an approximate count of bytes stored. Spread over
 * {@link USAGE_SHARDS} items per direction so that no single item is written by every
 * request of a tenant.
 */
export type UsageDirection = 'produce' | 'fetch';

/** Usage items per tenant and direction; each takes 1/USAGE_SHARDS of the tenant's writes. */
export const USAGE_SHARDS = 32;

export interface UsageTotals {
  /** Bytes produced in window `window`, summed over the shards. */
  produceBytes: number;
  /** Bytes fetched in window `window`, summed over the shards. */
  fetchBytes: number;
  /** Bytes stored (approximate: produced minus what the maintenance job removed). */
  storedBytes: number;
}

export interface UsageStore {
  /** Sums every shard of the tenant (one read): the window's produced and fetched bytes, and stored bytes. */
  read(tenantId: string, window: number): Promise<UsageTotals>;
  /**
   * Counts `bytes` into shard `shard` of `direction` for window `window` (epoch second);
   * produced bytes also count as stored. A shard whose window is newer keeps it (a
   * lagging clock counts into the newer window). `opensWindow` is the caller's guess that
   * the shard still holds an older window (this instance last wrote it in one): an adapter
   * may then try opening the window first, so that the shard's first write of a second
   * takes one call instead of two. A wrong guess costs a call, never a wrong count.
   */
  add(
    tenantId: string,
    direction: UsageDirection,
    shard: number,
    window: number,
    bytes: number,
    opensWindow?: boolean,
  ): Promise<void>;
}
