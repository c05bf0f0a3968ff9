import { LRUCache } from 'lru-cache';
import { API_KEY_CACHE_MS, DEFAULT_RETENTION_MS, SECOND } from '#shared/constants';
import { RunnelError } from '#shared/domain/errors';
import { type Quotas, retentionAllowed } from '#shared/domain/quotas';
import { type ProducedRecord, recordSize } from '#shared/domain/records';
import type { MetadataStore } from '#shared/ports/metadata-store';
import type { UsageStore } from '#shared/ports/usage-store';
import type { TenantPrincipal } from './auth';

export const quotaExceeded = (detail: string, quota: keyof Quotas, limit: number) =>
  new RunnelError('quota_exceeded', detail, { quota, limit });

const throttled = (direction: 'produce' | 'fetch', limit: number, retryAfterMs: number) =>
  new RunnelError(
    'throttled',
    `The tenant is over its ${direction} rate of ${limit} bytes per second; retry after the Retry-After delay.`,
    { retryAfterMs, quota: direction === 'produce' ? 'produceBytesPerSec' : 'fetchBytesPerSec', limit },
  );

/** The retention a topic gets when it asks for none: the default, shortened to the tenant's cap. */
export const defaultRetentionMs = (quotas: Quotas): number =>
  quotas.maxRetentionMs === -1 ? DEFAULT_RETENTION_MS : Math.min(DEFAULT_RETENTION_MS, quotas.maxRetentionMs);

const checkRetention = (retentionMs: number | undefined, quotas: Quotas) => {
  if (retentionMs !== undefined && !retentionAllowed(retentionMs, quotas.maxRetentionMs)) {
    throw quotaExceeded(
      `Retention ${retentionMs === -1 ? 'forever' : `${retentionMs} ms`} is over the tenant's maximum of ${quotas.maxRetentionMs} ms.`,
      'maxRetentionMs',
      quotas.maxRetentionMs,
    );
  }
};

/** Tenants whose rate state one instance keeps; the least recently seen go first. */
const MAX_TENANTS_REMEMBERED = 10_000;

/**
 * Count quotas (topics, partitions, retention, storage) and byte rates (produce, fetch)
 * of a tenant. Rates use one-second windows shared by every instance through the usage
 * store, plus what this instance already knows: once it has seen the tenant's window
 * full, further requests in that window are refused without a DynamoDB call.
 */
export class QuotaService {
  /** Windows (epoch seconds) this instance has seen full, per tenant. */
  private readonly produceFull = new LRUCache<string, number>({ max: MAX_TENANTS_REMEMBERED });
  /** Until when this instance takes the tenant's storage as full. */
  private readonly storageFullUntil = new LRUCache<string, number>({ max: MAX_TENANTS_REMEMBERED });
  /** The last fetch window total this instance learnt, per tenant. */
  private readonly fetched = new LRUCache<string, { window: number; bytes: number }>({ max: MAX_TENANTS_REMEMBERED });

  constructor(
    private readonly metadata: MetadataStore,
    private readonly usage: UsageStore,
    private readonly clock: () => number,
  ) {}

  private window(): { window: number; retryAfterMs: number } {
    const now = this.clock();
    const window = Math.floor(now / SECOND);
    return { window, retryAfterMs: (window + 1) * SECOND - now };
  }

  /*
   * Topic counts come from one query of the tenant's topics. Two creates racing on
   * different instances may both pass the check, so the count can overshoot by the number
   * of concurrent creates; serial creates are exact.
   */
  async checkTopicCreate(principal: TenantPrincipal, input: { partitions: number; retentionMs?: number | undefined }) {
    const { quotas } = principal;
    checkRetention(input.retentionMs, quotas);
    const topics = await this.metadata.listTopics(principal.tenantId);
    if (topics.length + 1 > quotas.maxTopics) {
      throw quotaExceeded(
        `The tenant has ${topics.length} of at most ${quotas.maxTopics} topics.`,
        'maxTopics',
        quotas.maxTopics,
      );
    }
    const partitions = topics.reduce((n, t) => n + t.partitions, 0);
    if (partitions + input.partitions > quotas.maxPartitions) {
      throw quotaExceeded(
        `The tenant's topics have ${partitions} partitions; ${input.partitions} more would pass its maximum of ${quotas.maxPartitions}.`,
        'maxPartitions',
        quotas.maxPartitions,
      );
    }
  }

  async checkTopicUpdate(
    principal: TenantPrincipal,
    name: string,
    change: { partitions?: number | undefined; retentionMs?: number | undefined },
  ) {
    const { quotas } = principal;
    checkRetention(change.retentionMs, quotas);
    if (change.partitions === undefined) return;
    const topics = await this.metadata.listTopics(principal.tenantId);
    const current = topics.find((t) => t.name === name);
    // An unknown topic, or partitions not growing: the update itself answers.
    if (!current || change.partitions <= current.partitions) return;
    const partitions = topics.reduce((n, t) => n + t.partitions, 0);
    const after = partitions - current.partitions + change.partitions;
    if (after > quotas.maxPartitions) {
      throw quotaExceeded(
        `The tenant's topics would have ${after} partitions, over its maximum of ${quotas.maxPartitions}.`,
        'maxPartitions',
        quotas.maxPartitions,
      );
    }
  }

  /**
   * Admits a produce of `bytes` record bytes or throws 429/403. Called before anything
   * of the request is written, so a refused produce writes nothing. Costs one DynamoDB
   * write in the steady state (two when it opens a new second), none when this instance
   * already saw the window full.
   */
  async admitProduce(principal: TenantPrincipal, bytes: number): Promise<void> {
    const { tenantId, quotas } = principal;
    const { window, retryAfterMs } = this.window();
    const now = this.clock();
    if ((this.storageFullUntil.get(tenantId) ?? 0) > now) throw this.storageFull(quotas);
    if (this.produceFull.get(tenantId) === window) {
      throw throttled('produce', quotas.produceBytesPerSec, retryAfterMs);
    }
    const admission = await this.usage.admitProduce(
      tenantId,
      window,
      bytes,
      quotas.produceBytesPerSec,
      quotas.maxStorageBytes,
    );
    if (admission.admitted) return;
    if (admission.reason === 'storage') {
      this.storageFullUntil.set(tenantId, now + API_KEY_CACHE_MS);
      throw this.storageFull(quotas);
    }
    this.produceFull.set(tenantId, window);
    throw throttled('produce', quotas.produceBytesPerSec, retryAfterMs);
  }

  private storageFull(quotas: Quotas) {
    return quotaExceeded(
      `The tenant stores its maximum of ${quotas.maxStorageBytes} bytes; delete topics or shorten retention.`,
      'maxStorageBytes',
      quotas.maxStorageBytes,
    );
  }

  /**
   * Refuses a fetch when this instance knows the tenant's fetch window is used up. Fetched
   * bytes are only known after the read, so they are counted afterwards ({@link recordFetch})
   * and the window may overshoot by one fetch per instance.
   */
  checkFetch(principal: TenantPrincipal): void {
    const { window, retryAfterMs } = this.window();
    const seen = this.fetched.get(principal.tenantId);
    if (seen && seen.window === window && seen.bytes >= principal.quotas.fetchBytesPerSec) {
      throw throttled('fetch', principal.quotas.fetchBytesPerSec, retryAfterMs);
    }
  }

  /** Counts fetched bytes (one DynamoDB write; none for an empty fetch). */
  async recordFetch(principal: TenantPrincipal, bytes: number): Promise<void> {
    if (bytes <= 0) return;
    const { window } = this.window();
    const total = await this.usage.addFetched(principal.tenantId, window, bytes);
    this.fetched.set(principal.tenantId, { window, bytes: total });
  }

  /** Counts the bytes of the records a fetch returned ({@link recordFetch}). */
  async recordFetchedRecords(
    principal: TenantPrincipal,
    records: readonly Pick<ProducedRecord, 'key' | 'value' | 'headers'>[],
  ): Promise<void> {
    await this.recordFetch(
      principal,
      records.reduce((n, r) => n + recordSize(r), 0),
    );
  }
}
