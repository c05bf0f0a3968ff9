import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Limits } from '#shared/constants';
import {
  type DatagenConfig,
  type HttpSinkConfig,
  type S3SinkConfig,
  sinkGroup,
} from '#shared/domain/connectors/config';
import { generateRecords } from '#shared/domain/connectors/datagen';
import { isRetriableStatus, parseRetryAfter, retryDelayMs, sinkObjectKey } from '#shared/domain/connectors/delivery';
import {
  checkDestination,
  type DestinationPolicy,
  DestinationRefusedError,
  type Resolver,
} from '#shared/domain/connectors/destination';
import { RunnelError } from '#shared/domain/errors';
import { effectiveQuotas } from '#shared/domain/quotas';
import { type ProducedRecord, recordSize, type StoredRecord } from '#shared/domain/records';
import {
  ConnectorLeaseLostError,
  type ConnectorRef,
  type ConnectorRuntime,
  type ConnectorStore,
  type StoredConnector,
} from '#shared/ports/connector-store';
import type { GroupStore } from '#shared/ports/group-store';
import type { MetadataStore, Topic } from '#shared/ports/metadata-store';
import { SinkBucketError, type SinkObjectStore } from '#shared/ports/sink-object-store';
import type { TenantPrincipal } from '#shared/services/auth';
import { mapWithConcurrency } from '#shared/services/concurrency';
import { type ExactlyOnceProducer, requestHash } from '#shared/services/exactly-once';
import type { FetchResult, FetchService } from '#shared/services/fetch';
import type { GroupService } from '#shared/services/groups';
import type { ProduceService } from '#shared/services/produce';
import type { QuotaService } from '#shared/services/quotas';
import { DeliveryError, type HttpPost, nodeHttpPost } from './http-delivery';

/**
 * The connector runtime. Any number of workers may run (local mode runs one inside
 * `npm start`; in AWS a scheduled function runs one per invocation): each pass lists the
 * registered connectors and, for every one whose lease it gets, runs one step of it.
 * docs/connectors.md has the design and every crash point; in short:
 *
 * - datagen plans a batch (sequence, first record, count, time) and stores the plan
 *   before producing it with that producer sequence: after a crash the same batch is
 *   produced again under the same sequence, and the exactly-once producer answers it
 *   with the first offsets instead of appending it twice.
 * - sinks read from the group `connect-<name>`'s committed offsets, deliver, and only
 *   then commit (at least once, in offset order per partition).
 * - the s3-sink stores which offsets an object will hold before writing it, so a retry
 *   writes the same object under the same name: every record lands in exactly one object.
 */

/** Places a test may stop a worker (throwing models a crash there; nothing after it runs). */
export type CrashPoint =
  | 'datagen:planned'
  | 'datagen:produced'
  | 'http:delivered'
  | 's3:planned'
  | 's3:written'
  | 's3:committed';

export interface ConnectorWorkerDeps {
  store: ConnectorStore;
  metadata: MetadataStore;
  groupStore: GroupStore;
  /** Sinks commit what they delivered as their group's offsets. */
  groups: Pick<GroupService, 'commit'>;
  fetcher: FetchService;
  producer: ProduceService;
  exactlyOnce: Pick<ExactlyOnceProducer, 'produce'>;
  objects: SinkObjectStore;
  /** What connectors produce counts against the tenant's produce rate and storage, as a client's produce does. */
  quotas: QuotaService;
  limits: Limits;
  clock: () => number;
}

export interface ConnectorWorkerOptions {
  /** This worker's lease owner id. @default random */
  owner?: string;
  /** How long a lease lasts without renewal; another worker takes over after it. @default 30 s */
  leaseMs?: number;
  /** Where an http-sink may deliver. */
  destinations: DestinationPolicy;
  resolve: Resolver;
  /** @default nodeHttpPost */
  httpPost?: HttpPost;
  /** One delivery attempt's time limit. @default 10 s */
  httpTimeoutMs?: number;
  /** Connectors stepped at once. @default 8 */
  concurrency?: number;
  /** Crash-test hook, called at each {@link CrashPoint}. */
  afterStep?: (point: CrashPoint, connector: StoredConnector) => Promise<void> | void;
  /** Structured log lines; never header values. @default none */
  log?: (entry: Record<string, unknown>) => void;
}

/** A connector that cannot go on until its user acts: it turns `failed` with this message. */
export class ConnectorFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorFailure';
  }
}

export interface PassReport {
  connectors: number;
  stepped: number;
  errors: number;
}

/** Most records one datagen step produces. */
const DATAGEN_MAX_BATCH = 1000;
/** A datagen connector that fell further behind its rate than this catches up no more than this. */
const DATAGEN_MAX_CATCH_UP_MS = 10_000;
/** Record bytes one http-sink request carries at most (well under a receiver's usual 6-10 MB limits). */
const HTTP_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** Bytes read per fetch while filling an s3 object. */
const S3_FETCH_BYTES = 4 * 1024 * 1024;
/**
 * A registration is written just before its connector: one younger than this without a
 * connector may be a create in progress, and is left alone.
 */
const REGISTRATION_GRACE_MS = 60_000;
/** How long a tenant's liveness is trusted before it is read again. */
const TENANT_CACHE_MS = 10_000;

const utf8 = new TextDecoder();
const text = (bytes: Uint8Array | null) => (bytes === null ? null : utf8.decode(bytes));
const encoder = new TextEncoder();

/** A record as sinks write it (http body, s3 JSON Lines). */
export const sinkRecord = (topic: string, partition: number, r: StoredRecord) => ({
  topic,
  partition,
  offset: r.offset,
  timestamp: r.timestamp,
  key: text(r.key),
  value: text(r.value),
  headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
});

interface SinkRecord extends StoredRecord {
  topic: string;
  partition: number;
}

const refKey = (ref: ConnectorRef) => `${ref.tenantId}\n${ref.name}`;

export class ConnectorWorker {
  readonly owner: string;
  private readonly leaseMs: number;
  private readonly httpPost: HttpPost;
  /** When a sink first saw records it has not sent yet (per connector and partition): batching by time. */
  private readonly waitingSince = new Map<string, number>();
  /** Where an http-sink's next batch starts looking, so no partition starves the others. */
  private readonly cursor = new Map<string, number>();
  private readonly tenants = new Map<string, { principal: TenantPrincipal | undefined; until: number }>();
  private readonly held = new Set<string>();

  constructor(
    private readonly deps: ConnectorWorkerDeps,
    private readonly options: ConnectorWorkerOptions,
  ) {
    this.owner = options.owner ?? `worker-${randomBytes(9).toString('base64url')}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.httpPost = options.httpPost ?? nodeHttpPost;
  }

  private log(entry: Record<string, unknown>) {
    this.options.log?.(entry);
  }

  /** One pass: a step of every registered connector this worker gets the lease of. */
  async runOnce(): Promise<PassReport> {
    const refs = await this.deps.store.registered();
    const report: PassReport = { connectors: refs.length, stepped: 0, errors: 0 };
    await mapWithConcurrency(refs, this.options.concurrency ?? 8, async (ref) => {
      try {
        if (await this.visit(ref)) report.stepped++;
      } catch (error) {
        report.errors++;
        this.log({
          level: 'error',
          msg: 'connector step failed',
          tenantId: ref.tenantId,
          connector: ref.name,
          error: describe(error),
        });
      }
    });
    return report;
  }

  /** Frees every lease this worker holds (a clean shutdown: another worker can take over at once). */
  async stop(): Promise<void> {
    const refs = [...this.held].map((key) => {
      const [tenantId, name] = key.split('\n') as [string, string];
      return { tenantId, name };
    });
    await Promise.all(refs.map((ref) => this.deps.store.release(ref, this.owner)));
    this.held.clear();
  }

  /** The tenant as a principal (its quotas in force), or undefined when it is deleted; cached briefly. */
  private async tenant(tenantId: string): Promise<TenantPrincipal | undefined> {
    const now = this.deps.clock();
    const cached = this.tenants.get(tenantId);
    if (cached && cached.until > now) return cached.principal;
    const tenant = await this.deps.metadata.getTenant(tenantId);
    const principal: TenantPrincipal | undefined =
      tenant && tenant.deletedAt === undefined
        ? {
            kind: 'tenant',
            tenantId,
            keyId: 'connector-worker',
            permissions: [],
            quotas: effectiveQuotas(tenant.quotas),
          }
        : undefined;
    this.tenants.set(tenantId, { principal, until: now + TENANT_CACHE_MS });
    return principal;
  }

  /** Counts a connector's produce against its tenant's quotas (throttled or quota_exceeded: tried again later). */
  private async admit(connector: StoredConnector, records: readonly ProducedRecord[]) {
    const principal = await this.tenant(connector.tenantId);
    if (!principal) throw new ConnectorLeaseLostError(connector);
    const admission = await this.deps.quotas.admitProduce(
      principal,
      records.reduce((n, r) => n + recordSize(r), 0),
    );
    await admission.written;
  }

  /** Drops a registration whose connector is gone (not one whose connector is still being created). */
  private async dropIfOrphaned(ref: ConnectorRef) {
    if ((ref.registeredAt ?? 0) > this.deps.clock() - REGISTRATION_GRACE_MS) return;
    if (!(await this.deps.store.get(ref.tenantId, ref.name))) await this.deps.store.unregister(ref);
  }

  private async visit(ref: ConnectorRef): Promise<boolean> {
    if (!(await this.tenant(ref.tenantId))) {
      // A deleted tenant's connectors stop at once; its registrations go once maintenance removed its items.
      await this.dropIfOrphaned(ref);
      return false;
    }
    const connector = await this.deps.store.acquire(ref, this.owner, this.deps.clock(), this.leaseMs);
    if (!connector) {
      this.held.delete(refKey(ref));
      // Held by another worker, or gone.
      await this.dropIfOrphaned(ref);
      return false;
    }
    this.held.add(refKey(ref));
    if (connector.state !== 'running') return false;
    try {
      if (connector.kind === 'datagen') await this.datagenStep(connector);
      else if (connector.kind === 'http-sink') await this.httpSinkStep(connector);
      else await this.s3SinkStep(connector);
    } catch (error) {
      if (error instanceof ConnectorLeaseLostError) return false;
      const failure = asFailure(error);
      if (failure) {
        await this.deps.store.finish(connector, this.owner, 'failed', {
          lastError: failure.message,
          lastErrorAt: this.deps.clock(),
        });
        this.log({
          level: 'warn',
          msg: 'connector failed',
          tenantId: ref.tenantId,
          connector: ref.name,
          error: failure.message,
        });
        return true;
      }
      // Transient (storage, throttling): noted, and the next pass tries again.
      await this.deps.store
        .noteError(connector, this.owner, describe(error).message, this.deps.clock())
        .catch(() => {});
      throw error;
    }
    return true;
  }

  private async hook(point: CrashPoint, connector: StoredConnector) {
    await this.options.afterStep?.(point, connector);
  }

  private async topic(tenantId: string, name: string): Promise<Topic> {
    const topic = await this.deps.metadata.getTopic(tenantId, name);
    if (!topic) throw new ConnectorFailure(`Topic '${name}' does not exist.`);
    return topic;
  }

  // ---- datagen -------------------------------------------------------------------------

  private async datagenStep(connector: StoredConnector) {
    const config = connector.config as DatagenConfig;
    const topic = await this.topic(connector.tenantId, config.topic);
    let runtime: ConnectorRuntime = { ...connector.runtime };
    const status = { ...connector.status };
    // A recreated topic is a new producer scope: its sequences start at 0 again.
    if (runtime.topicId !== topic.topicId) runtime = { sequence: 0, topicId: topic.topicId };
    const now = this.deps.clock();
    if (!runtime.pending) {
      const left = config.maxRecords === undefined ? Number.POSITIVE_INFINITY : config.maxRecords - status.records;
      if (left <= 0) {
        await this.deps.store.finish(connector, this.owner, 'completed');
        return;
      }
      const rate = config.recordsPerSecond;
      let from = runtime.rateFrom ?? { at: now, records: status.records };
      let due = from.records + Math.floor(((now - from.at) * rate) / 1000) - status.records;
      if (due > (rate * DATAGEN_MAX_CATCH_UP_MS) / 1000) {
        from = { at: now - DATAGEN_MAX_CATCH_UP_MS, records: status.records };
        due = Math.floor((rate * DATAGEN_MAX_CATCH_UP_MS) / 1000);
      }
      runtime.rateFrom = from;
      const count = Math.min(due, left, DATAGEN_MAX_BATCH);
      if (count <= 0) {
        if (!connector.runtime.rateFrom) await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
        return;
      }
      // Write-ahead: the batch is fixed before it is produced, so a retry produces the same one.
      runtime.pending = { sequence: runtime.sequence ?? 0, first: status.records, count, at: now };
      await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
      await this.hook('datagen:planned', connector);
    }
    const pending = runtime.pending as NonNullable<ConnectorRuntime['pending']>;
    const generated = generateRecords(config.template, connector.connectorId, pending.first, pending.count, pending.at);
    const records = generated.map((r) => ({
      key: encoder.encode(r.key),
      value: encoder.encode(r.value),
      headers: [],
      timestamp: undefined,
      partition: undefined,
    }));
    await this.admit(connector, records);
    const producerId = `connect-${connector.connectorId}`;
    const hash = requestHash('POST', `connector:${connector.connectorId}`, pending);
    try {
      await this.deps.exactlyOnce.produce(
        topic,
        records,
        { kind: 'sequence', producerId, sequence: pending.sequence },
        hash,
        { limits: this.deps.limits },
      );
    } catch (error) {
      // The producer's state expired (a connector paused for more than a day): continue where it expects.
      if (error instanceof RunnelError && error.code === 'out_of_order_sequence') {
        const expected = Number(error.fields.expectedSequence);
        runtime.sequence = expected;
        runtime.pending = { ...pending, sequence: expected };
        await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
        return;
      }
      throw error;
    }
    await this.hook('datagen:produced', connector);
    status.records = pending.first + pending.count;
    runtime.sequence = pending.sequence + 1;
    delete runtime.pending;
    delete status.lastError;
    delete status.lastErrorAt;
    await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
    if (config.maxRecords !== undefined && status.records >= config.maxRecords) {
      await this.deps.store.finish(connector, this.owner, 'completed');
    }
  }

  // ---- sinks: positions and commits ----------------------------------------------------

  private async sinkTopics(connector: StoredConnector, names: readonly string[]) {
    return Promise.all(names.map((name) => this.topic(connector.tenantId, name)));
  }

  /** The group's committed offset of a partition, or undefined (start at the log start). */
  private async committed(connector: StoredConnector, topic: Topic, partition: number): Promise<number | undefined> {
    const commit = await this.deps.groupStore.getCommit(
      connector.tenantId,
      sinkGroup(connector.name),
      topic.name,
      partition,
    );
    return commit && commit.topicId === topic.topicId ? commit.offset : undefined;
  }

  private async fetchFrom(
    topic: Topic,
    partition: number,
    offset: number | undefined,
    maxRecords: number,
    maxBytes: number,
  ) {
    const request = { maxRecords, maxBytes, waitMs: 0 };
    try {
      return await this.deps.fetcher.fetch(topic, partition, { ...request, offset: offset ?? 'earliest' });
    } catch (error) {
      // The committed offset fell out of retention: continue at the log start (Kafka's earliest reset).
      if (!(error instanceof RunnelError) || error.code !== 'offset_out_of_range') throw error;
      return this.deps.fetcher.fetch(topic, partition, { ...request, offset: 'earliest' });
    }
  }

  private async commit(connector: StoredConnector, offsets: { topic: string; partition: number; offset: number }[]) {
    if (offsets.length === 0) return;
    await this.deps.groups.commit(connector.tenantId, sinkGroup(connector.name), { offsets });
  }

  /** Batching by time: whether records first seen at `key` have waited `waitMs` (starts the wait if new). */
  private waited(key: string, waitMs: number): boolean {
    const now = this.deps.clock();
    const since = this.waitingSince.get(key);
    if (since === undefined) {
      this.waitingSince.set(key, now);
      return waitMs <= 0;
    }
    return now - since >= waitMs;
  }

  // ---- http-sink -----------------------------------------------------------------------

  private async httpSinkStep(connector: StoredConnector) {
    const config = connector.config as HttpSinkConfig;
    const runtime = { ...connector.runtime };
    const status = { ...connector.status };
    const now = this.deps.clock();
    if (runtime.nextAttemptAt !== undefined && now < runtime.nextAttemptAt) return;
    const key = `${refKey(connector)}\n${connector.connectorId}`;

    // The batch: from each partition's committed offset, in offset order, up to batchMaxRecords.
    const topics = await this.sinkTopics(connector, config.topics);
    const partitions = topics.flatMap((topic) =>
      Array.from({ length: topic.partitions }, (_, p) => ({ topic, partition: p })),
    );
    const start = (this.cursor.get(key) ?? 0) % Math.max(1, partitions.length);
    const ordered = [...partitions.slice(start), ...partitions.slice(0, start)];
    this.cursor.set(key, start + 1);
    const batch: SinkRecord[] = [];
    const next = new Map<string, { topic: string; partition: number; offset: number }>();
    let bytes = 0;
    for (const { topic, partition } of ordered) {
      const room = config.batchMaxRecords - batch.length;
      if (room <= 0 || bytes >= HTTP_BATCH_MAX_BYTES) break;
      const offset = await this.committed(connector, topic, partition);
      const result: FetchResult = await this.fetchFrom(topic, partition, offset, room, HTTP_BATCH_MAX_BYTES - bytes);
      for (const r of result.records) {
        batch.push({ ...r, topic: topic.name, partition });
        bytes += recordSize(r);
      }
      const last = result.records.at(-1);
      if (last) next.set(`${topic.name}#${partition}`, { topic: topic.name, partition, offset: last.offset + 1 });
    }
    if (batch.length === 0) {
      this.waitingSince.delete(key);
      return;
    }
    const retrying = (runtime.attempts ?? 0) > 0;
    if (!retrying && batch.length < config.batchMaxRecords && !this.waited(key, config.batchMaxWaitMs)) return;

    let outcome: { ok: true } | { ok: false; reason: string; retriable: boolean; retryAfterMs?: number | undefined };
    try {
      const destination = await checkDestination(config.url, this.options.destinations, this.options.resolve);
      const body = JSON.stringify({ records: batch.map((r) => sinkRecord(r.topic, r.partition, r)) });
      const response = await this.httpPost(
        destination,
        config.headers ?? {},
        body,
        this.options.httpTimeoutMs ?? 10_000,
      );
      outcome =
        response.status >= 200 && response.status < 300
          ? { ok: true }
          : {
              ok: false,
              reason: `The receiver answered HTTP ${response.status}.`,
              retriable: isRetriableStatus(response.status),
              retryAfterMs: parseRetryAfter(response.retryAfter, this.deps.clock()),
            };
    } catch (error) {
      if (error instanceof DestinationRefusedError) throw new ConnectorFailure(error.message);
      if (!(error instanceof DeliveryError)) throw error;
      outcome = { ok: false, reason: `Delivery failed: ${error.message}.`, retriable: true };
    }

    if (outcome.ok) {
      await this.hook('http:delivered', connector);
      await this.commit(connector, [...next.values()]);
      this.waitingSince.delete(key);
      status.records += batch.length;
      delete runtime.attempts;
      delete runtime.nextAttemptAt;
      await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
      return;
    }
    const attempts = (runtime.attempts ?? 0) + 1;
    status.lastError = outcome.reason;
    status.lastErrorAt = this.deps.clock();
    if (outcome.retriable && attempts <= config.maxRetries) {
      runtime.attempts = attempts;
      runtime.nextAttemptAt = this.deps.clock() + retryDelayMs(attempts, outcome.retryAfterMs);
      await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
      return;
    }
    const given = `${outcome.reason} Gave up after ${attempts} attempt(s).`;
    if (!config.deadLetterTopic) throw new ConnectorFailure(given);
    // Dead letter: the batch goes to the topic with where it came from and why, then the sink moves on.
    const deadLetters = await this.topic(connector.tenantId, config.deadLetterTopic);
    const records: (ProducedRecord & { partition: undefined })[] = batch.map((r) => ({
      key: r.key,
      value: r.value,
      headers: [
        ...r.headers,
        { key: 'runnel.connector', value: encoder.encode(connector.name) },
        { key: 'runnel.topic', value: encoder.encode(r.topic) },
        { key: 'runnel.partition', value: encoder.encode(String(r.partition)) },
        { key: 'runnel.offset', value: encoder.encode(String(r.offset)) },
        { key: 'runnel.error', value: encoder.encode(given) },
      ],
      timestamp: r.timestamp,
      partition: undefined,
    }));
    await this.admit(connector, records);
    await this.deps.producer.produce(deadLetters, records, { limits: this.deps.limits });
    await this.commit(connector, [...next.values()]);
    this.waitingSince.delete(key);
    status.records += batch.length;
    status.lastError = `${given} The batch went to '${config.deadLetterTopic}'.`;
    delete runtime.attempts;
    delete runtime.nextAttemptAt;
    await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
  }

  // ---- s3-sink -------------------------------------------------------------------------

  private async s3SinkStep(connector: StoredConnector) {
    const config = connector.config as S3SinkConfig;
    const topics = await this.sinkTopics(connector, config.topics);
    let current = connector;
    for (const topic of topics) {
      for (let partition = 0; partition < topic.partitions; partition++) {
        current = await this.s3SinkPartition(current, config, topic, partition);
      }
    }
  }

  /** Reads offsets first..last of a partition (a planned object's records). */
  private async readRange(topic: Topic, partition: number, first: number, last: number): Promise<StoredRecord[]> {
    const records: StoredRecord[] = [];
    let offset = first;
    while (offset <= last) {
      const result = await this.deps.fetcher.fetch(topic, partition, {
        offset,
        maxRecords: Math.min(10_000, last - offset + 1),
        maxBytes: S3_FETCH_BYTES,
        waitMs: 0,
      });
      for (const r of result.records) if (r.offset <= last) records.push(r);
      if (result.records.length === 0 || result.nextOffset <= offset) break;
      offset = result.nextOffset;
    }
    return records;
  }

  private async s3SinkPartition(
    connector: StoredConnector,
    config: S3SinkConfig,
    topic: Topic,
    partition: number,
  ): Promise<StoredConnector> {
    const slot = `${topic.name}#${partition}`;
    const waitKey = `${refKey(connector)}\n${connector.connectorId}\n${slot}`;
    const runtime: ConnectorRuntime = { ...connector.runtime, objects: { ...connector.runtime.objects } };
    const objects = runtime.objects as NonNullable<ConnectorRuntime['objects']>;
    const status = { ...connector.status };
    let plan = objects[slot];
    let records: StoredRecord[];
    if (plan) {
      // A plan survived a crash: write exactly that object again.
      records = await this.readRange(topic, partition, plan.first, plan.last);
    } else {
      const offset = await this.committed(connector, topic, partition);
      records = [];
      let bytes = 0;
      let from: number | undefined = offset;
      while (bytes < config.flushMaxBytes) {
        const result = await this.fetchFrom(
          topic,
          partition,
          from,
          10_000,
          Math.min(S3_FETCH_BYTES, config.flushMaxBytes - bytes),
        );
        if (result.records.length === 0) break;
        for (const r of result.records) {
          records.push(r);
          bytes += recordSize(r);
        }
        from = result.nextOffset;
      }
      if (records.length === 0) {
        this.waitingSince.delete(waitKey);
        return connector;
      }
      if (bytes < config.flushMaxBytes && !this.waited(waitKey, config.flushMaxMs)) return connector;
      plan = { first: (records[0] as StoredRecord).offset, last: (records.at(-1) as StoredRecord).offset };
      objects[slot] = plan;
      await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
      await this.hook('s3:planned', connector);
    }
    const first = records[0];
    if (first) {
      const key = sinkObjectKey(config.prefix, topic.name, partition, first.timestamp, plan.first, plan.last);
      const body = gzipSync(`${records.map((r) => JSON.stringify(sinkRecord(topic.name, partition, r))).join('\n')}\n`);
      try {
        await this.deps.objects.put(
          { tenantId: connector.tenantId, connector: connector.name, bucket: config.bucket, roleArn: config.roleArn },
          key,
          body,
        );
      } catch (error) {
        if (error instanceof SinkBucketError) throw new ConnectorFailure(error.message);
        throw error;
      }
      await this.hook('s3:written', connector);
    }
    await this.commit(connector, [{ topic: topic.name, partition, offset: plan.last + 1 }]);
    await this.hook('s3:committed', connector);
    delete objects[slot];
    this.waitingSince.delete(waitKey);
    status.records += records.length;
    await this.deps.store.saveProgress(connector, this.owner, { runtime, status });
    return { ...connector, runtime, status };
  }
}

const asFailure = (error: unknown): ConnectorFailure | undefined => {
  if (error instanceof ConnectorFailure) return error;
  // A topic the connector needs was deleted meanwhile, or a commit refused for good: the user must act.
  if (error instanceof RunnelError && (error.code === 'topic_not_found' || error.code === 'partition_not_found')) {
    return new ConnectorFailure(error.message);
  }
  return undefined;
};

const describe = (error: unknown) =>
  error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };

/** The worker's dependencies from the ports and the app's services (one assembly for every host). */
export const connectorWorkerDeps = (
  ports: { connectors: ConnectorStore; metadata: MetadataStore; groups: GroupStore },
  services: {
    /** The app's group coordinator, built on first use. */
    groups: () => Promise<GroupService>;
    fetcher: FetchService;
    producer: ProduceService;
    exactlyOnce: Pick<ExactlyOnceProducer, 'produce'>;
    quotas: QuotaService;
    limits: Limits;
    clock: () => number;
  },
  objects: SinkObjectStore,
): ConnectorWorkerDeps => ({
  store: ports.connectors,
  metadata: ports.metadata,
  groupStore: ports.groups,
  groups: { commit: async (...args) => (await services.groups()).commit(...args) },
  fetcher: services.fetcher,
  producer: services.producer,
  exactlyOnce: services.exactlyOnce,
  objects,
  quotas: services.quotas,
  limits: services.limits,
  clock: services.clock,
});
