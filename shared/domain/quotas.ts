import { DAY, KiB, MiB } from '#shared/constants';

/**
 * Per-tenant quotas. Counts and sizes are refused with 403 `quota_exceeded`, rates with
 * 429 `throttled`. A tenant stores only the quotas an operator set; the rest follow
 * {@link DEFAULT_QUOTAS}, so changing a default reaches every tenant that kept it.
 */
export interface Quotas {
  /** Topics in the tenant. @default 100 */
  maxTopics: number;
  /** Partitions summed over all the tenant's topics. @default 1,000 */
  maxPartitions: number;
  /** Longest topic retention; -1 allows any, including forever. @default -1 */
  maxRetentionMs: number;
  /** Bytes stored over all topics (approximate: see docs/security.md). @default 100 GiB */
  maxStorageBytes: number;
  /** Record bytes produced per second over all topics. @default 5 MiB */
  produceBytesPerSec: number;
  /** Record bytes fetched per second over all topics. @default 20 MiB */
  fetchBytesPerSec: number;
  /** Connectors in the tenant (docs/connectors.md). @default 10 */
  maxConnectors: number;
}

export const QUOTA_NAMES = [
  'maxTopics',
  'maxPartitions',
  'maxRetentionMs',
  'maxStorageBytes',
  'produceBytesPerSec',
  'fetchBytesPerSec',
  'maxConnectors',
] as const satisfies readonly (keyof Quotas)[];

export const DEFAULT_QUOTAS: Quotas = {
  maxTopics: 100,
  maxPartitions: 1000,
  maxRetentionMs: -1,
  maxStorageBytes: 100 * 1024 * MiB,
  produceBytesPerSec: 5 * MiB,
  fetchBytesPerSec: 20 * MiB,
  maxConnectors: 10,
};

/** The quotas in force: the tenant's own values over the defaults. */
export const effectiveQuotas = (own: Partial<Quotas> | undefined): Quotas => {
  const quotas = { ...DEFAULT_QUOTAS };
  for (const name of QUOTA_NAMES) {
    const value = own?.[name];
    if (typeof value === 'number') quotas[name] = value;
  }
  return quotas;
};

/** Whether `retentionMs` (-1 = forever) fits under `maxRetentionMs` (-1 = no limit). */
export const retentionAllowed = (retentionMs: number, maxRetentionMs: number): boolean =>
  maxRetentionMs === -1 || (retentionMs !== -1 && retentionMs <= maxRetentionMs);

/** Smallest sensible rate: one full-size record per second would otherwise never pass. */
export const MIN_RATE_BYTES_PER_SEC = KiB;
/** Longest retention an operator may set as a cap (besides -1): ten years. */
export const MAX_RETENTION_CAP_MS = 3650 * DAY;
