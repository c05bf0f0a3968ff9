import { randomUUID } from 'node:crypto';
import { DAY, HOUR, MINUTE } from '#shared/constants';
import { ALL_CLASS_NAMES, RETENTION_CLASSES } from '#shared/domain/retention';
import type { LogIndex, PartitionRef } from '#shared/ports/log-index';
import { entryEnd, scanEntries } from '#shared/ports/log-index';
import type { DeletedTopic, MaintenanceStore, TopicProgress } from '#shared/ports/maintenance-store';
import type { MetadataStore, Topic } from '#shared/ports/metadata-store';
import type { SegmentStore } from '#shared/ports/segment-store';
import {
  COMPACTION_DEFAULTS,
  type CompactionOptions,
  emptyWork,
  PartitionCompactor,
  type PartitionWork,
} from './compaction';
import { PartitionReader } from './partition-reader';

export interface MaintenanceDeps {
  metadata: MetadataStore;
  index: LogIndex;
  segments: SegmentStore;
  maintenance: MaintenanceStore;
  /** @default Date.now */
  clock?: () => number;
}

export interface MaintenanceOptions extends CompactionOptions {
  /** Objects no index entry points at are deleted once older than this. @default 1 hour */
  orphanGraceMs: number;
  /** How often a topic's objects are checked for orphans (a listing per class and a full index read). @default 6 hours */
  orphanSweepIntervalMs: number;
  /** A run stops starting new work after this long (and leaves the rest to the next). @default 5 minutes */
  maxRunMs: number;
  /** Index entries a run reads for compaction per partition. @default 5,000 */
  maxEntriesPerPartition: number;
  /** Index and object writes a run does at most before it stops (then resumes where it stopped). @default 20,000 */
  maxWritesPerRun: number;
  /** The lease outlives any run (Lambda stops a run after 15 minutes). @default 20 minutes */
  leaseMs: number;
  /**
   * Deletes objects whose retention class has expired, as S3 lifecycle rules do in AWS.
   * Only for local mode (s3rver has no lifecycle). @default false
   */
  expireObjects: boolean;
  /** Take the lease (false lets tests run two jobs over the same data at once). @default true */
  useLease: boolean;
}

export const MAINTENANCE_DEFAULTS: MaintenanceOptions = {
  ...COMPACTION_DEFAULTS,
  orphanGraceMs: HOUR,
  orphanSweepIntervalMs: 6 * HOUR,
  maxRunMs: 5 * MINUTE,
  maxEntriesPerPartition: 5000,
  maxWritesPerRun: 20_000,
  leaseMs: 20 * MINUTE,
  expireObjects: false,
  useLease: true,
};

export interface MaintenanceReport extends PartitionWork {
  /** Another run held the lease: this one did nothing. */
  skipped: boolean;
  /** False when the run stopped on its budget; the next run continues after `cursor`. */
  complete: boolean;
  topics: number;
  partitions: number;
  orphansDeleted: number;
  deletedTopicsCleaned: number;
  deletedTopicEntriesRemoved: number;
  deletedTenantsCleaned: number;
  expiredObjectsDeleted: number;
  cursor: string | undefined;
}

/** The object key prefixes a topic's segments can have: one per retention class. */
const topicPrefixes = (tenantId: string, topicId: string): string[] =>
  ALL_CLASS_NAMES.map((c) => `${c}/${tenantId}/${topicId}/`);

const topicCursor = (topic: Topic) => `${topic.tenantId}/${topic.name}`;

class Budget {
  private writes = 0;
  constructor(
    private readonly maxWrites: number,
    private readonly deadline: number,
    private readonly clock: () => number,
  ) {}
  spend(n: number) {
    this.writes += n;
  }
  get exhausted(): boolean {
    return this.writes >= this.maxWrites || this.clock() >= this.deadline;
  }
}

/**
 * The maintenance job (scheduled in AWS, periodic in `npm start`): per live topic,
 * retention trim, compaction and rehoming of every partition and, now and then, removal
 * of orphan objects; then the data of deleted topics (and of deleted tenants' topics).
 *
 * Idempotent and safe to run twice at once: all state is in the index and every change
 * is a conditional single-item write on what was read. The lease only spares a second
 * run the duplicate work. Bounded: a run stops after `maxRunMs` or `maxWritesPerRun` and
 * the next one continues after the last topic it finished.
 */
export class MaintenanceJob {
  private readonly clock: () => number;
  private readonly options: MaintenanceOptions;
  private readonly compactor: PartitionCompactor;

  constructor(
    private readonly deps: MaintenanceDeps,
    options: Partial<MaintenanceOptions> = {},
  ) {
    this.clock = deps.clock ?? Date.now;
    this.options = { ...MAINTENANCE_DEFAULTS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (typeof value === 'number' && !(value >= 0)) throw new Error(`Maintenance option ${name} must be >= 0`);
    }
    if (this.options.safetyAgeMs < 15 * MINUTE) {
      throw new Error('safetyAgeMs must exceed the longest an append can take (15 minutes)');
    }
    const reader = new PartitionReader({ index: deps.index, segments: deps.segments, clock: this.clock });
    this.compactor = new PartitionCompactor({
      index: deps.index,
      segments: deps.segments,
      reader,
      options: this.options,
    });
  }

  /**
   * One run. A host that knows how long it may run (Lambda's remaining time) passes a
   * shorter `maxRunMs`, and a lease just longer than that, so a run the host kills does
   * not hold the lease long past its own end.
   */
  async run(limits: Partial<Pick<MaintenanceOptions, 'maxRunMs' | 'leaseMs'>> = {}): Promise<MaintenanceReport> {
    const maxRunMs = limits.maxRunMs ?? this.options.maxRunMs;
    const leaseMs = limits.leaseMs ?? this.options.leaseMs;
    const started = this.clock();
    const report: MaintenanceReport = {
      ...emptyWork(),
      skipped: false,
      complete: true,
      topics: 0,
      partitions: 0,
      orphansDeleted: 0,
      deletedTopicsCleaned: 0,
      deletedTopicEntriesRemoved: 0,
      deletedTenantsCleaned: 0,
      expiredObjectsDeleted: 0,
      cursor: undefined,
    };
    const owner = randomUUID();
    let cursor: string | undefined;
    if (this.options.useLease) {
      const lease = await this.deps.maintenance.acquireLease(owner, started, leaseMs);
      if (!lease) return { ...report, skipped: true };
      cursor = lease.cursor;
    }
    const budget = new Budget(this.options.maxWritesPerRun, started + maxRunMs, this.clock);
    try {
      await this.deletedTenants(budget, report);
      cursor = await this.liveTopics(cursor, budget, report);
      if (!budget.exhausted) await this.deletedTopics(budget, report);
      if (!budget.exhausted && this.options.expireObjects) await this.expireObjects(budget, report);
      report.complete = !budget.exhausted;
      report.cursor = cursor;
    } finally {
      if (this.options.useLease) await this.deps.maintenance.releaseLease(owner, cursor);
    }
    return report;
  }

  /** Round-robin over every tenant's topics, starting after `cursor`; returns where to continue. */
  private async liveTopics(cursor: string | undefined, budget: Budget, report: MaintenanceReport) {
    const tenants = (await this.deps.metadata.listTenants()).sort((a, b) => a.tenantId.localeCompare(b.tenantId));
    const topics: Topic[] = [];
    for (const tenant of tenants) {
      const own = await this.deps.metadata.listTopics(tenant.tenantId);
      topics.push(...own.sort((a, b) => a.name.localeCompare(b.name)));
    }
    let start = cursor ? topics.findIndex((t) => topicCursor(t) > cursor) : 0;
    if (start < 0) start = 0;
    let last: string | undefined;
    for (let i = 0; i < topics.length; i++) {
      if (budget.exhausted) return last ?? cursor;
      const topic = topics[(start + i) % topics.length] as Topic;
      await this.maintainTopic(topic, budget, report);
      last = topicCursor(topic);
    }
    // Every topic done: the next run starts from the beginning.
    return undefined;
  }

  private async maintainTopic(topic: Topic, budget: Budget, report: MaintenanceReport) {
    const now = this.clock();
    const saved = await this.deps.maintenance.getProgress(topic.tenantId, topic.topicId);
    // A changed retention may make settled segments' class too short: look at everything again.
    const progress: TopicProgress =
      saved && saved.retentionMs === topic.retentionMs
        ? saved
        : { retentionMs: topic.retentionMs, settledThrough: {}, orphansSweptAt: saved?.orphansSweptAt ?? 0 };
    const before = JSON.stringify(progress);
    const topicWork = emptyWork();
    report.topics += 1;
    for (let partition = 0; partition < topic.partitions && !budget.exhausted; partition++) {
      const ref: PartitionRef = { tenantId: topic.tenantId, topicId: topic.topicId, partition };
      const last = await this.deps.index.last(ref);
      if (!last) continue;
      report.partitions += 1;
      const work = emptyWork();
      const pass = { ref, topic, last, now, work };
      await this.compactor.trim(pass);
      const settled = await this.compactor.compact({
        ...pass,
        from: progress.settledThrough[partition] ?? 0,
        maxEntries: this.options.maxEntriesPerPartition,
      });
      progress.settledThrough[partition] = settled;
      for (const key of Object.keys(work) as (keyof PartitionWork)[]) {
        report[key] += work[key];
        topicWork[key] += work[key];
      }
      budget.spend(
        work.entriesRemoved +
          work.markersWritten +
          work.coveredRemoved +
          work.segmentsWritten +
          work.entriesFolded +
          work.entriesRehomed,
      );
    }
    if (topicWork.bytesRemoved > 0) {
      await this.deps.maintenance.releaseStoredBytes(topic.tenantId, topicWork.bytesRemoved);
    }
    if (!budget.exhausted && now - progress.orphansSweptAt >= this.options.orphanSweepIntervalMs) {
      report.orphansDeleted += await this.sweepOrphans(topic, now, budget);
      progress.orphansSweptAt = now;
    }
    if (JSON.stringify(progress) !== before) {
      await this.deps.maintenance.putProgress(topic.tenantId, topic.topicId, progress);
    }
  }

  /**
   * Deletes the topic's objects that no index entry points at and that are older than
   * the grace period: objects of produce requests that failed before they committed, and
   * objects compaction and rehoming replaced. An object gains no new reference once
   * written except from the request or compaction that wrote it (within minutes), so
   * one read of the index, then the listing, is a safe snapshot. A reader still holding
   * an entry that pointed at a deleted object reads the index again.
   */
  private async sweepOrphans(topic: Topic, now: number, budget: Budget): Promise<number> {
    const referenced = new Set<string>();
    for (let partition = 0; partition < topic.partitions; partition++) {
      const ref: PartitionRef = { tenantId: topic.tenantId, topicId: topic.topicId, partition };
      for await (const entry of scanEntries(this.deps.index, ref, 0)) {
        if (entry.location.kind === 'object') referenced.add(entry.location.objectKey);
      }
    }
    let deleted = 0;
    for (const prefix of topicPrefixes(topic.tenantId, topic.topicId)) {
      deleted += await this.deleteObjects(
        prefix,
        (o) => o.lastModified < now - this.options.orphanGraceMs && !referenced.has(o.objectKey),
        budget,
      );
    }
    return deleted;
  }

  /** Deletes the objects under `prefix` that `select` picks, a listing page at a time. */
  private async deleteObjects(
    prefix: string,
    select: (o: { objectKey: string; lastModified: number }) => boolean,
    budget: Budget,
  ): Promise<number> {
    let deleted = 0;
    let startAfter: string | undefined;
    do {
      const page = await this.deps.segments.list(prefix, startAfter ? { startAfter } : {});
      const doomed = page.objects.filter(select).map((o) => o.objectKey);
      await this.deps.segments.delete(doomed);
      deleted += doomed.length;
      budget.spend(doomed.length > 0 ? 1 : 0);
      startAfter = page.next;
    } while (startAfter && !budget.exhausted);
    return deleted;
  }

  /**
   * Removes the index entries and objects of deleted topics, then their tombstones. Only
   * tombstones older than the safety age are processed, so no produce that read the topic
   * before it was deleted is still appending; and only if the topic item is really gone
   * (the tombstone is written first, so a failed delete can leave one for a live topic).
   */
  private async deletedTopics(budget: Budget, report: MaintenanceReport) {
    const now = this.clock();
    for (const deleted of await this.deps.maintenance.listDeletedTopics(100)) {
      if (budget.exhausted) return;
      if (now - deleted.deletedAt < this.options.safetyAgeMs) continue;
      const live = await this.deps.metadata.getTopic(deleted.tenantId, deleted.name);
      if (live?.topicId === deleted.topicId) continue;
      if (await this.removeTopicData(deleted, budget, report)) {
        await this.deps.maintenance.deleteProgress(deleted.tenantId, deleted.topicId);
        await this.deps.maintenance.forgetDeletedTopic(deleted);
        report.deletedTopicsCleaned += 1;
      }
    }
  }

  /** True when everything is gone; false when the budget ran out first (the next run goes on). */
  private async removeTopicData(deleted: DeletedTopic, budget: Budget, report: MaintenanceReport) {
    for (let partition = 0; partition < deleted.partitions; partition++) {
      const ref: PartitionRef = { tenantId: deleted.tenantId, topicId: deleted.topicId, partition };
      let covered = 0;
      for (;;) {
        if (budget.exhausted) return false;
        const page = await this.deps.index.entriesFrom(ref, 0, 100);
        let bytes = 0;
        for (const entry of page.entries) {
          if (!(await this.deps.index.remove(ref, entry))) continue;
          report.deletedTopicEntriesRemoved += 1;
          // Folded leftovers were counted in their compacted entry.
          if (entryEnd(entry) > covered) bytes += entry.sizeBytes;
          covered = Math.max(covered, entryEnd(entry));
        }
        if (bytes > 0) await this.deps.maintenance.releaseStoredBytes(deleted.tenantId, bytes);
        budget.spend(page.entries.length);
        if (!page.more) break;
      }
      await this.deps.index.removeCounter(ref);
    }
    for (const prefix of topicPrefixes(deleted.tenantId, deleted.topicId)) {
      report.orphansDeleted += await this.deleteObjects(prefix, () => true, budget);
      if (budget.exhausted) return false;
    }
    return true;
  }

  /**
   * Deleted tenants (docs/security.md): their topics are deleted like any topic
   * (tombstone, then topic item), so step 3 of the run removes their data; once no topic
   * and no topic tombstone of the tenant is left, the remaining items under the tenant
   * (key list entries, usage, groups) and any object under its prefixes go, and the
   * tenant tombstone last, so a run that stops half way is simply repeated.
   */
  private async deletedTenants(budget: Budget, report: MaintenanceReport) {
    const tombstones = await this.deps.metadata.listTenantTombstones();
    if (tombstones.length === 0) return;
    const pendingTopics = new Set((await this.deps.maintenance.listDeletedTopics(1000)).map((t) => t.tenantId));
    for (const { tenantId } of tombstones) {
      if (budget.exhausted) return;
      const tenant = await this.deps.metadata.getTenant(tenantId);
      if (tenant && tenant.deletedAt === undefined) continue;
      const topics = await this.deps.metadata.listTopics(tenantId);
      for (const topic of topics) {
        await this.deps.metadata.deleteTopic(topic, this.clock());
        budget.spend(2);
      }
      if (topics.length > 0 || pendingTopics.has(tenantId)) continue;
      budget.spend(await this.deps.maintenance.purgeTenantItems(tenantId));
      for (const c of ALL_CLASS_NAMES) {
        report.orphansDeleted += await this.deleteObjects(`${c}/${tenantId}/`, () => true, budget);
      }
      if (budget.exhausted) return;
      await this.deps.maintenance.forgetDeletedTenant(tenantId);
      report.deletedTenantsCleaned += 1;
    }
  }

  /** Local mode's stand-in for S3 lifecycle rules: deletes objects older than their class. */
  private async expireObjects(budget: Budget, report: MaintenanceReport) {
    const now = this.clock();
    for (const c of RETENTION_CLASSES) {
      report.expiredObjectsDeleted += await this.deleteObjects(
        `${c.name}/`,
        (o) => o.lastModified < now - c.days * DAY,
        budget,
      );
      if (budget.exhausted) return;
    }
  }
}
