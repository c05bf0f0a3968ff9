import type { ConnectorStore } from '#shared/ports/connector-store';
import type { GroupStore } from '#shared/ports/group-store';
import type { IdempotencyStore } from '#shared/ports/idempotency-store';
import type {
  CounterState,
  EntryPage,
  IndexEntry,
  LogIndex,
  OffsetCounter,
  PartitionRef,
  Reservation,
} from '#shared/ports/log-index';
import { isSameEntry, OffsetTakenError, partitionKey, takeReservation } from '#shared/ports/log-index';
import type {
  ApiKey,
  ApiKeySummary,
  MetadataStore,
  Tenant,
  TenantTombstone,
  Topic,
} from '#shared/ports/metadata-store';
import { StaleWriteError, TopicExistsError } from '#shared/ports/metadata-store';
import { type ObjectPage, SegmentNotFoundError, type SegmentStore } from '#shared/ports/segment-store';
import type { UsageStore, UsageTotals } from '#shared/ports/usage-store';

/*
 * In-memory implementations of the ports, for one measurement only: the handler's CPU
 * time with I/O taken out (what Lambda bills as GB-s beyond waiting). They live in bench/
 * and are used by nothing else: tests and the product run on the emulators. The port
 * contract suites (test/contracts/) hold MemoryLogIndex to the DynamoDB adapter's behaviour.
 */

export class MemoryLogIndex implements LogIndex {
  private readonly partitions = new Map<string, IndexEntry[]>();

  private entries(p: PartitionRef): IndexEntry[] {
    const key = partitionKey(p);
    let list = this.partitions.get(key);
    if (!list) {
      list = [];
      this.partitions.set(key, list);
    }
    return list;
  }

  /** Index of the first entry with baseOffset >= offset (entries are in offset order). */
  private lowerBound(list: IndexEntry[], offset: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as IndexEntry).baseOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async last(p: PartitionRef) {
    return this.entries(p).at(-1);
  }

  async first(p: PartitionRef) {
    return this.entries(p)[0];
  }

  async entryAtOrBefore(p: PartitionRef, offset: number) {
    const list = this.entries(p);
    const i = this.lowerBound(list, offset + 1);
    return i > 0 ? list[i - 1] : undefined;
  }

  async entriesFrom(p: PartitionRef, fromOffset: number, limit: number): Promise<EntryPage> {
    const list = this.entries(p);
    const i = this.lowerBound(list, fromOffset);
    return { entries: list.slice(i, i + limit), more: i + limit < list.length };
  }

  async append(p: PartitionRef, entry: IndexEntry) {
    const list = this.entries(p);
    const i = this.lowerBound(list, entry.baseOffset);
    if (list[i]?.baseOffset === entry.baseOffset) throw new OffsetTakenError(entry.baseOffset);
    list.splice(i, 0, entry);
  }

  /** Where `expected` is stored unchanged (the adapter's condition), or -1. */
  private find(list: IndexEntry[], expected: IndexEntry): number {
    const i = this.lowerBound(list, expected.baseOffset);
    const stored = list[i];
    return stored && isSameEntry(stored, expected) ? i : -1;
  }

  async replace(p: PartitionRef, expected: IndexEntry, next: IndexEntry) {
    const list = this.entries(p);
    const i = this.find(list, expected);
    if (i < 0) return false;
    list[i] = next;
    return true;
  }

  async remove(p: PartitionRef, expected: IndexEntry) {
    const list = this.entries(p);
    const i = this.find(list, expected);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  private readonly counters = new Map<string, CounterState>();

  async reserve(p: PartitionRef, count: number): Promise<Reservation | undefined> {
    const counter = this.counters.get(partitionKey(p));
    return counter && takeReservation(counter, count);
  }

  async initCounter(p: PartitionRef, counter: OffsetCounter) {
    if (this.counters.has(partitionKey(p))) return false;
    this.counters.set(partitionKey(p), { ...counter, floor: 0 });
    return true;
  }

  async readCounter(p: PartitionRef) {
    const counter = this.counters.get(partitionKey(p));
    return counter && { ...counter };
  }

  async removeCounter(p: PartitionRef) {
    this.counters.delete(partitionKey(p));
  }

  async raiseFloor(p: PartitionRef, offset: number) {
    const counter = this.counters.get(partitionKey(p));
    if (counter) counter.floor = Math.max(counter.floor, offset);
  }
}

export class MemorySegmentStore implements SegmentStore {
  private readonly objects = new Map<string, Uint8Array>();

  async put(objectKey: string, body: Uint8Array) {
    this.objects.set(objectKey, body);
  }

  async getRange(objectKey: string, start: number, length: number) {
    const body = this.objects.get(objectKey);
    if (!body) throw new SegmentNotFoundError(objectKey);
    return body.subarray(start, start + length);
  }

  async list(prefix: string, options: { startAfter?: string; limit?: number } = {}): Promise<ObjectPage> {
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (options.startAfter === undefined || k > options.startAfter))
      .sort();
    const page = keys.slice(0, options.limit ?? 1000);
    const objects = page.map((objectKey) => ({
      objectKey,
      lastModified: 0,
      size: (this.objects.get(objectKey) as Uint8Array).byteLength,
    }));
    return page.length < keys.length ? { objects, next: page.at(-1) as string } : { objects };
  }

  async delete(objectKeys: readonly string[]) {
    for (const key of objectKeys) this.objects.delete(key);
  }
}

export class MemoryMetadataStore implements MetadataStore {
  private readonly tenants = new Map<string, Tenant>();
  private readonly keys = new Map<string, ApiKey>();
  private readonly topics = new Map<string, Topic>();

  async createTenant(tenant: Tenant) {
    this.tenants.set(tenant.tenantId, tenant);
  }
  async getTenant(tenantId: string) {
    return this.tenants.get(tenantId);
  }
  async listTenants() {
    return [...this.tenants.values()];
  }
  async updateTenantQuotas(tenantId: string, change: Partial<Record<string, number | null>>) {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) return undefined;
    const quotas: Record<string, number> = { ...(tenant.quotas as Record<string, number> | undefined) };
    for (const [name, value] of Object.entries(change)) {
      if (value === null) delete quotas[name];
      else if (value !== undefined) quotas[name] = value;
    }
    const next = { ...tenant, quotas };
    this.tenants.set(tenantId, next);
    return next;
  }
  async deleteTenant(tenantId: string) {
    return this.tenants.delete(tenantId);
  }
  async listTenantTombstones(): Promise<TenantTombstone[]> {
    return [];
  }
  async listApiKeys(tenantId: string): Promise<ApiKeySummary[]> {
    return [...this.keys.values()]
      .filter((k) => k.tenantId === tenantId)
      .map(({ keyId, name, permissions, createdAt }) => ({ keyId, name, permissions, createdAt }));
  }
  async deleteApiKey(tenantId: string, keyId: string) {
    if (this.keys.get(keyId)?.tenantId !== tenantId) return false;
    return this.keys.delete(keyId);
  }
  async recordApiKeyUse() {}
  async createApiKey(key: ApiKey) {
    this.keys.set(key.keyId, key);
  }
  async getApiKey(keyId: string) {
    return this.keys.get(keyId);
  }
  async createTopic(topic: Topic) {
    const id = `${topic.tenantId}/${topic.name}`;
    const existing = this.topics.get(id);
    if (existing) throw new TopicExistsError(existing);
    this.topics.set(id, topic);
  }
  async getTopic(tenantId: string, name: string) {
    return this.topics.get(`${tenantId}/${name}`);
  }
  async listTopics(tenantId: string) {
    return [...this.topics.values()].filter((t) => t.tenantId === tenantId);
  }
  async updateTopic(expected: Topic, next: Topic) {
    const id = `${expected.tenantId}/${expected.name}`;
    const current = this.topics.get(id);
    if (!current || current.topicId !== expected.topicId || current.partitions !== expected.partitions)
      throw new StaleWriteError('topic');
    this.topics.set(id, next);
  }
  async deleteTopic(topic: Topic, _deletedAt: number) {
    const id = `${topic.tenantId}/${topic.name}`;
    if (this.topics.get(id)?.topicId === topic.topicId) this.topics.delete(id);
  }
}

/**
 * Reports no usage and keeps none: the quota arithmetic still runs in the service, but
 * this measurement never throttles itself.
 */
export class MemoryUsageStore implements UsageStore {
  async read(): Promise<UsageTotals> {
    return { produceBytes: 0, fetchBytes: 0, storedBytes: 0 };
  }

  async add() {}
}

/** Consumer groups are not part of the CPU measurement: any call is a bench error. */
export const unusedGroupStore = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('consumer groups are not used by this measurement');
    },
  },
) as GroupStore;

export const unusedConnectorStore = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('connectors are not used by this measurement');
    },
  },
) as ConnectorStore;

/** Idempotent produce is not part of the CPU measurement: any call is a bench error. */
export const unusedIdempotencyStore = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('idempotent produce is not used by this measurement');
    },
  },
) as IdempotencyStore;
