import { DEFAULT_RETENTION_MS, SECOND } from '#shared/constants';
import { boundedCache } from '#shared/domain/bounded-cache';
import { RunnelError } from '#shared/domain/errors';
import { type Quotas, retentionAllowed } from '#shared/domain/quotas';
import { type ProducedRecord, recordSize } from '#shared/domain/records';
import type { MetadataStore } from '#shared/ports/metadata-store';
import { USAGE_SHARDS, type UsageDirection, type UsageStore, type UsageTotals } from '#shared/ports/usage-store';
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

/** Tenants whose usage state one instance keeps; the least recently seen go first. */
const MAX_TENANTS_REMEMBERED = 10_000;

/** How old this instance's knowledge of a tenant's usage may get before a request re-reads it. */
export const USAGE_REFRESH_MS = 200;

/** Bytes of one direction counted by this instance in one window. */
interface WindowCount {
  window: number;
  bytes: number;
}

/** This instance's own counts that the last read of the shards may not include. */
interface LocalCounts {
  produce: WindowCount;
  fetch: WindowCount;
  storedBytes: number;
}

interface UsageWrite {
  direction: UsageDirection;
  window: number;
  bytes: number;
}

/** What one instance knows of a tenant's usage. */
interface TenantUsage {
  /** When the last read of the shards was sent. */
  readAt: number;
  reading: Promise<void> | undefined;
  /** The totals of the last read that completed, for window `window`. */
  learnt: (UsageTotals & { window: number }) | undefined;
  /** Counted since the last completed read was sent, plus what was in flight then. */
  local: LocalCounts;
  /** The same counts for the read in flight, which will replace `local` when it completes. */
  next: LocalCounts | undefined;
  /** Usage writes sent and not yet answered. */
  inFlight: Set<UsageWrite>;
  /** Fetched bytes of the current window counted here and not yet written (sent with the next request). */
  unsentFetch: UsageWrite;
  /** The shard this instance writes next, per direction (round robin from a random start). */
  shard: Record<UsageDirection, number>;
  /** The window this instance last wrote into each shard, per direction (0: never). */
  shardWindows: Record<UsageDirection, number[]>;
}

const countsOf = (writes: Iterable<UsageWrite>): LocalCounts => {
  const counts: LocalCounts = { produce: { window: 0, bytes: 0 }, fetch: { window: 0, bytes: 0 }, storedBytes: 0 };
  for (const w of writes) count(counts, w);
  return counts;
};

const count = (counts: LocalCounts, write: UsageWrite) => {
  const c = counts[write.direction];
  if (write.window > c.window) {
    c.window = write.window;
    c.bytes = 0;
  }
  if (write.window === c.window) c.bytes += write.bytes;
  if (write.direction === 'produce') counts.storedBytes += write.bytes;
};

/**
 * Usage calls a request sent and did not wait for; `settled` never rejects. A request
 * answers without waiting for them (on Lambda, calls still in flight when an invocation
 * answers complete when the instance is next invoked); tests and the connector worker
 * await `settled` to know they landed.
 */
export interface UsageCalls {
  settled: Promise<void>;
}

/** A produce's usage write, sent alongside the append; `written` never rejects, and the answer does not wait for it. */
export interface ProduceAdmission {
  written: Promise<void>;
}

/**
 * A read of the usage shards still unanswered after this long was most likely sent before
 * the instance was frozen between invocations: a request that needs a read sends a new one
 * instead of waiting for that one's timeout, and the old one's answer is ignored.
 */
export const USAGE_READ_SUPERSEDED_MS = 1_000;

/**
 * Count quotas (topics, partitions, retention, storage) and byte rates (produce, fetch)
 * of a tenant. Rates use one-second windows. Each instance admits on its own, against
 * what it last read of the tenant's usage shards (at most {@link USAGE_REFRESH_MS} old
 * when a request arrives; the read runs alongside the topic lookup) plus what it counted
 * itself since. The usage write of an admitted request goes to one of the shards, in
 * parallel with the request's own work: no request waits on a write that is not its
 * append, and no item takes every request of a tenant. See docs/performance.md for the
 * accuracy this gives across instances.
 */
export class QuotaService {
  private readonly tenants = boundedCache<string, TenantUsage>(MAX_TENANTS_REMEMBERED);
  /** Usage calls of every tenant sent and not yet settled. */
  private readonly outstanding = new Set<Promise<unknown>>();

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

  private state(tenantId: string): TenantUsage {
    let state = this.tenants.get(tenantId);
    if (!state) {
      state = {
        readAt: Number.NEGATIVE_INFINITY,
        reading: undefined,
        learnt: undefined,
        local: countsOf([]),
        next: undefined,
        inFlight: new Set(),
        unsentFetch: { direction: 'fetch', window: 0, bytes: 0 },
        shard: {
          produce: Math.floor(Math.random() * USAGE_SHARDS),
          fetch: Math.floor(Math.random() * USAGE_SHARDS),
        },
        shardWindows: {
          produce: new Array<number>(USAGE_SHARDS).fill(0),
          fetch: new Array<number>(USAGE_SHARDS).fill(0),
        },
      };
      this.tenants.set(tenantId, state);
    }
    return state;
  }

  private stale(state: TenantUsage): boolean {
    return state.learnt === undefined || this.clock() - state.readAt >= USAGE_REFRESH_MS;
  }

  /**
   * Starts a read of the tenant's usage shards unless one is in flight; resolves when it is
   * done. `started` says whether this call sent it.
   */
  private read(tenantId: string, state: TenantUsage): { reading: Promise<void>; started: boolean } {
    if (state.reading && this.clock() - state.readAt < USAGE_READ_SUPERSEDED_MS) {
      return { reading: state.reading, started: false };
    }
    const { window } = this.window();
    state.readAt = this.clock();
    // Writes in flight now may or may not be in what the read sees: count them locally too
    // (at worst twice, which errs on the side of refusing).
    state.next = countsOf([...state.inFlight, state.unsentFetch]);
    const reading: Promise<void> = this.usage
      .read(tenantId, window)
      .then((totals) => {
        if (state.reading !== reading) return; // superseded by a newer read
        state.learnt = { ...totals, window };
        state.local = state.next ?? countsOf([]);
      })
      .finally(() => {
        if (state.reading !== reading) return;
        state.next = undefined;
        state.reading = undefined;
      });
    state.reading = reading;
    this.track(reading);
    return { reading, started: true };
  }

  private track(call: Promise<unknown>) {
    const settled = call.then(
      () => {},
      () => {},
    );
    this.outstanding.add(settled);
    settled.finally(() => this.outstanding.delete(settled));
  }

  /**
   * Resolves when every usage call sent so far (writes and reads, of every tenant) has
   * settled. Requests never wait for these; tests that read usage right after an answer do.
   */
  async drain(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.all(this.outstanding);
  }

  /**
   * Brings this instance's knowledge of the tenant's usage up to date when it is older than
   * {@link USAGE_REFRESH_MS} (one read), and sends the fetched bytes this instance counted
   * since its last request (one write, same window only). Run it alongside the topic
   * lookup. It waits for the read only when this instance knows nothing of the current
   * second; otherwise the read runs beside the request and that knowledge decides. Never
   * waits for the write: no decision depends on it. `settled` is what this call sent and
   * did not wait for (never rejects); the request answers without waiting for it.
   */
  async prepare(principal: TenantPrincipal): Promise<UsageCalls> {
    const { tenantId } = principal;
    const state = this.state(tenantId);
    const unsent = state.unsentFetch;
    const { window } = this.window();
    const calls: Promise<unknown>[] = [];
    if (unsent.bytes > 0 && unsent.window === window) calls.push(this.send(tenantId, state, unsent));
    state.unsentFetch = { direction: 'fetch', window, bytes: 0 };
    if (this.stale(state)) {
      const { reading, started } = this.read(tenantId, state);
      if (state.learnt?.window !== window) await reading;
      else if (started) calls.push(reading.catch(() => {}));
    }
    return { settled: Promise.all(calls).then(() => {}) };
  }

  /** What the tenant used in the current window and stores, as far as this instance knows. */
  private used(state: TenantUsage, direction: UsageDirection, window: number) {
    const learnt = state.learnt?.window === window ? state.learnt[`${direction}Bytes`] : 0;
    const local = state.local[direction].window === window ? state.local[direction].bytes : 0;
    return { bytes: learnt + local, storedBytes: (state.learnt?.storedBytes ?? 0) + state.local.storedBytes };
  }

  /** Counts locally and sends the usage write to the next shard; the returned promise never rejects. */
  private record(tenantId: string, state: TenantUsage, direction: UsageDirection, window: number, bytes: number) {
    const write: UsageWrite = { direction, window, bytes };
    this.count(state, write);
    return this.send(tenantId, state, write);
  }

  private count(state: TenantUsage, write: UsageWrite) {
    count(state.local, write);
    if (state.next) count(state.next, write);
  }

  /** Sends a write already counted locally. */
  private send(tenantId: string, state: TenantUsage, write: UsageWrite): Promise<void> {
    state.inFlight.add(write);
    const shard = state.shard[write.direction];
    state.shard[write.direction] = (shard + 1) % USAGE_SHARDS;
    // This instance wrote the shard last in an older window: the shard most likely still
    // holds that one (at rates where every instance revisits each shard within a second it
    // does not, and the adapter adds to the open window first).
    const windows = state.shardWindows[write.direction];
    const opensWindow = (windows[shard] ?? 0) < write.window;
    windows[shard] = Math.max(windows[shard] ?? 0, write.window);
    const sent = this.usage
      .add(tenantId, write.direction, shard, write.window, write.bytes, opensWindow)
      .catch(() => {
        // The bytes stay counted on this instance; other instances miss them. A lost usage
        // write must not fail a request whose records are written.
      })
      .finally(() => state.inFlight.delete(write));
    this.track(sent);
    return sent;
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
   * Refuses a produce at once, without any call, when this instance's fresh knowledge
   * already says the tenant is over its rate or storage: a tenant far over its quota costs
   * no storage reads. {@link admitProduce} still decides.
   */
  refuseEarly(principal: TenantPrincipal): void {
    const state = this.tenants.get(principal.tenantId);
    if (!state || this.stale(state)) return;
    this.refuseProduce(state, principal);
  }

  private refuseProduce(state: TenantUsage, { quotas }: TenantPrincipal): number {
    const { window, retryAfterMs } = this.window();
    const used = this.used(state, 'produce', window);
    if (used.storedBytes >= quotas.maxStorageBytes) throw this.storageFull(quotas);
    if (used.bytes >= quotas.produceBytesPerSec) throw throttled('produce', quotas.produceBytesPerSec, retryAfterMs);
    return window;
  }

  /**
   * Admits a produce of `bytes` record bytes or throws 429/403. Decides on this instance
   * (after {@link prepare}: it reads first only when this instance knows nothing of the
   * current second), so a refused produce writes nothing. An admitted one sends its usage
   * write at once, beside the append; `written` (that write, and the usage calls its
   * preparation sent beside the request) settles when they have, and the answer does not
   * wait for it: no produce waits on a write that is not its append.
   */
  async admitProduce(principal: TenantPrincipal, bytes: number): Promise<ProduceAdmission> {
    const { tenantId } = principal;
    const prepared = await this.prepare(principal);
    const state = this.state(tenantId);
    const window = this.refuseProduce(state, principal);
    const written = this.record(tenantId, state, 'produce', window, bytes);
    return { written: Promise.all([written, prepared.settled]).then(() => {}) };
  }

  private storageFull(quotas: Quotas) {
    return quotaExceeded(
      `The tenant stores its maximum of ${quotas.maxStorageBytes} bytes; delete topics or shorten retention.`,
      'maxStorageBytes',
      quotas.maxStorageBytes,
    );
  }

  /**
   * Refuses a fetch when this instance knows the tenant's fetch window is used up (stale
   * knowledge is refreshed in the background; call {@link prepare} first to wait for it).
   * Fetched bytes are only known after the read, so they are counted afterwards
   * ({@link recordFetch}) and the window may overshoot by one fetch per instance.
   */
  checkFetch(principal: TenantPrincipal): void {
    const state = this.state(principal.tenantId);
    if (this.stale(state)) this.read(principal.tenantId, state).reading.catch(() => {});
    const { window, retryAfterMs } = this.window();
    if (this.used(state, 'fetch', window).bytes >= principal.quotas.fetchBytesPerSec) {
      throw throttled('fetch', principal.quotas.fetchBytesPerSec, retryAfterMs);
    }
  }

  /**
   * Counts fetched bytes on this instance at once; they reach the usage shards with the
   * tenant's next request on this instance ({@link prepare}, alongside its topic lookup),
   * so no fetch waits on a write. Bytes of a window that has passed are not sent: only the
   * current window's total matters to other instances.
   */
  recordFetch(principal: TenantPrincipal, bytes: number): void {
    if (bytes <= 0) return;
    const { window } = this.window();
    const state = this.state(principal.tenantId);
    const write: UsageWrite = { direction: 'fetch', window, bytes };
    this.count(state, write);
    const unsent = state.unsentFetch;
    if (unsent.window !== window) state.unsentFetch = write;
    else unsent.bytes += bytes;
  }

  /** Counts the bytes of the records a fetch returned ({@link recordFetch}). */
  recordFetchedRecords(
    principal: TenantPrincipal,
    records: readonly Pick<ProducedRecord, 'key' | 'value' | 'headers'>[],
  ): void {
    this.recordFetch(
      principal,
      records.reduce((n, r) => n + recordSize(r), 0),
    );
  }
}
