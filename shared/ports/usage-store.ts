/**
 * Per-tenant usage shared by every function instance: bytes produced and fetched in the
 * current one-second window, and an approximate count of bytes stored.
 */
export type ProduceAdmission = { admitted: true } | { admitted: false; reason: 'rate' | 'storage' };

export interface UsageStore {
  /**
   * Counts `bytes` into the tenant's produce window `window` (epoch second) and stored
   * bytes, only if the window's total so far is below `bytesPerWindow` and the stored
   * bytes below `maxStoredBytes`. A refused request counts nothing.
   */
  admitProduce(
    tenantId: string,
    window: number,
    bytes: number,
    bytesPerWindow: number,
    maxStoredBytes: number,
  ): Promise<ProduceAdmission>;
  /** Counts fetched bytes into window `window`; returns the window's total after it. */
  addFetched(tenantId: string, window: number, bytes: number): Promise<number>;
}
