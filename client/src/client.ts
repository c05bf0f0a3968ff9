import { Consumer, type ConsumerOptions } from './consumer';
import { toBase64 } from './encoding';
import { checkOption, RunnelError } from './errors';
import { type ConnectionOptions, type RequestOptions, seg, Transport } from './http';
import { Producer, type ProducerOptions } from './producer';
import { Reader, type ReaderOptions } from './reader';
import type {
  CommittedOffset,
  Connector,
  ConsumedRecord,
  Data,
  Encoding,
  FetchResult,
  GroupDescription,
  GroupListing,
  Header,
  Permission,
  Topic,
  TopicDescription,
} from './types';

/** Options of {@link Runnel}. */
export type RunnelOptions = ConnectionOptions;

/** A record of {@link Runnel.produce}: the topic is given once for the request. */
export interface ProduceInput {
  key?: Data;
  value?: Data;
  headers?: Header[];
  partition?: number;
  timestamp?: number;
}

/** Options of one {@link Runnel.produce} request. */
export interface ProduceRequestOptions {
  /** An `Idempotency-Key`: a retry with the same key within 24 h answers the first response. */
  idempotencyKey?: string;
  /** Producer id for sequence-based idempotence (with `sequence`). */
  producerId?: string;
  /** This request's sequence for `producerId` (0 first, then +1 per request). */
  sequence?: number;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** Options of one partition fetch. */
export interface FetchOptions {
  /** An offset, `earliest` or `latest`. @default 'earliest' */
  offset?: number | 'earliest' | 'latest';
  /** At most this many records (1..10000 on the default server). @default the server's (500) */
  maxRecords?: number;
  /** At most about this many bytes. @default the server's (1 MiB) */
  maxBytes?: number;
  /** Long poll: wait up to this long (0..20000 ms) for a record. @default 0 */
  waitMs?: number;
  /** How keys and values come back. @default 'utf8' */
  encoding?: Encoding;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/** The body of a produce request, ready to send (used by the producer, which must resend identical bytes). */
export const encodeProduceBody = (
  records: ProduceInput[],
  extra: { producerId?: string; sequence?: number } = {},
): string => {
  const binary = records.some(
    (r) =>
      r.key instanceof Uint8Array ||
      r.value instanceof Uint8Array ||
      (r.headers?.some((h) => h.value instanceof Uint8Array) ?? false),
  );
  const enc = (v: Data | undefined): string | null | undefined =>
    v === undefined ? undefined : v === null ? null : binary ? toBase64(v) : (v as string);
  const wire = records.map((r) => {
    const out: Record<string, unknown> = {};
    if (r.key !== undefined) out.key = enc(r.key);
    if (r.value !== undefined) out.value = enc(r.value);
    if (r.headers && r.headers.length > 0) out.headers = r.headers.map((h) => ({ key: h.key, value: enc(h.value) }));
    if (r.partition !== undefined) out.partition = r.partition;
    if (r.timestamp !== undefined) out.timestamp = r.timestamp;
    return out;
  });
  return JSON.stringify({
    records: wire,
    ...(binary ? { encoding: 'base64' } : {}),
    ...(extra.producerId !== undefined ? { producerId: extra.producerId, sequence: extra.sequence } : {}),
  });
};

/** A fetched record as the API sends it. @internal */
export interface WireFetched {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Header<string | null>[];
  topic?: string;
  partition?: number;
}

/**
 * The Runnel client: one connection (URL, key, `fetch`) shared by the admin calls, the
 * {@link Producer}, {@link Consumer} and {@link Reader} it creates.
 *
 * @example
 * ```ts
 * const runnel = new Runnel({ url: 'http://127.0.0.1:8080', apiKey: process.env.RUNNEL_API_KEY });
 * await runnel.topics.create({ name: 'orders', partitions: 3 });
 * ```
 */
export class Runnel {
  /** @internal */
  readonly transport: Transport;

  constructor(options: RunnelOptions) {
    this.transport = new Transport(options);
  }

  /** One raw API call (for routes this SDK version does not wrap). Problems throw {@link RunnelError}. */
  async request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return (await this.transport.request<T>(method, path, options)).body;
  }

  /** A batching, idempotent producer. See {@link ProducerOptions} for its defaults. */
  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this, options);
  }

  /** A consumer-group member. */
  consumer(options: ConsumerOptions): Consumer {
    return new Consumer(this, options);
  }

  /** A reader of one partition or a whole topic, without a group. */
  reader(options: ReaderOptions): Reader {
    return new Reader(this, options);
  }

  /**
   * One produce request, unbatched: the records' offsets in input order. Prefer
   * {@link Runnel.producer}, which batches for you (one request per ~MiB is what makes
   * Runnel cheap).
   */
  async produce(
    topic: string,
    records: ProduceInput[],
    options: ProduceRequestOptions = {},
  ): Promise<{ partition: number; offset: number; timestamp: number }[]> {
    checkOption(Array.isArray(records) && records.length > 0, 'produce needs at least one record.');
    const body = encodeProduceBody(records, options);
    const res = await this.transport.request<{ offsets: { partition: number; offset: number; timestamp: number }[] }>(
      'POST',
      `/v1/topics/${seg(topic)}/records`,
      {
        body,
        signal: options.signal,
        ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
      },
    );
    return res.body.offsets;
  }

  /** One fetch from a partition. */
  async fetch(topic: string, partition: number, options: FetchOptions = {}): Promise<FetchResult> {
    const waitMs = options.waitMs ?? 0;
    const res = await this.transport.request<Omit<FetchResult, 'records'> & { records: WireFetched[] }>(
      'GET',
      `/v1/topics/${seg(topic)}/partitions/${seg(partition)}/records`,
      {
        query: {
          offset: options.offset ?? 'earliest',
          maxRecords: options.maxRecords,
          maxBytes: options.maxBytes,
          waitMs: options.waitMs,
          encoding: options.encoding,
        },
        signal: options.signal,
        extraTimeoutMs: waitMs,
      },
    );
    return { ...res.body, records: res.body.records.map((r) => toConsumed(r, topic, partition)) };
  }

  /** The first offset whose timestamp is at or after `timestamp` (or the high watermark): Kafka's ListOffsets. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const res = await this.transport.request<{ offset: number }>(
      'GET',
      `/v1/topics/${seg(topic)}/partitions/${seg(partition)}/offsets`,
      { query: { timestamp } },
    );
    return res.body.offset;
  }

  /** Topic administration. */
  readonly topics = {
    /** Creates a topic. Throws `topic_exists` when the name is taken. */
    create: (topic: { name: string; partitions: number; retentionMs?: number }): Promise<Topic> =>
      this.request<Topic>('POST', '/v1/topics', { body: topic }),
    /** The topics the key can see. */
    list: async (): Promise<Topic[]> => (await this.request<{ topics: Topic[] }>('GET', '/v1/topics')).topics,
    /** A topic with each partition's log start offset and high watermark. */
    describe: (name: string): Promise<TopicDescription> =>
      this.request<TopicDescription>('GET', `/v1/topics/${seg(name)}`),
    /** Changes retention, or grows the partition count. */
    update: (name: string, change: { partitions?: number; retentionMs?: number }): Promise<Topic> =>
      this.request<Topic>('PATCH', `/v1/topics/${seg(name)}`, { body: change }),
    /** Deletes a topic; its data becomes unreadable at once. */
    delete: async (name: string): Promise<void> => {
      await this.request('DELETE', `/v1/topics/${seg(name)}`);
    },
  };

  /** Consumer group administration. */
  readonly groups = {
    /** The tenant's groups. */
    list: async (): Promise<GroupListing[]> =>
      (await this.request<{ groups: GroupListing[] }>('GET', '/v1/groups')).groups,
    /** Members, assignments, committed offsets and lag. */
    describe: (group: string): Promise<GroupDescription> =>
      this.request<GroupDescription>('GET', `/v1/groups/${seg(group)}`),
    /** Committed offsets, optionally of one topic. */
    offsets: async (group: string, topic?: string): Promise<CommittedOffset[]> =>
      (
        await this.request<{ offsets: CommittedOffset[] }>('GET', `/v1/groups/${seg(group)}/offsets`, {
          query: { topic },
        })
      ).offsets,
    /**
     * Commits offsets (the next offset to read). Without `memberId`/`generation` it is a
     * standalone commit, refused while the group has live members (reset offsets this way).
     */
    commit: async (
      group: string,
      offsets: CommittedOffset[],
      member?: { memberId: string; generation: number },
    ): Promise<void> => {
      await this.request('POST', `/v1/groups/${seg(group)}/offsets`, {
        body: {
          ...(member ? { memberId: member.memberId, generation: member.generation } : {}),
          offsets: offsets.map((o) => ({
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
            ...(o.metadata != null ? { metadata: o.metadata } : {}),
          })),
        },
      });
    },
    /** Deletes a group and its offsets; `group_not_empty` while it has live members. */
    delete: async (group: string): Promise<void> => {
      await this.request('DELETE', `/v1/groups/${seg(group)}`);
    },
  };

  /** API keys of the tenant. */
  readonly keys = {
    /** Creates a key; its secret (`apiKey`) is returned once. */
    create: (key: { name: string; permissions: Permission[] }): Promise<{ keyId: string; apiKey: string }> =>
      this.request('POST', '/v1/keys', { body: key }),
    /** The tenant's keys (without secrets). */
    list: async (): Promise<Record<string, unknown>[]> =>
      (await this.request<{ keys: Record<string, unknown>[] }>('GET', '/v1/keys')).keys,
    /** Revokes a key at once. */
    revoke: async (keyId: string): Promise<void> => {
      await this.request('DELETE', `/v1/keys/${seg(keyId)}`);
    },
  };

  /** Read-only browser tokens. */
  readonly tokens = {
    /** Mints a read-only token (a subset of this key's permissions) for a browser or an `EventSource`. */
    create: (request: {
      permissions: Permission[];
      ttlSeconds?: number;
    }): Promise<{ token: string; expiresAt: number }> => this.request('POST', '/v1/tokens', { body: request }),
  };

  /** Connectors: managed pipelines run by the service. */
  readonly connectors = {
    /** Creates a connector. */
    create: (connector: { name: string; kind: string; config: Record<string, unknown> }): Promise<Connector> =>
      this.request('POST', '/v1/connectors', { body: connector }),
    /** The tenant's connectors. */
    list: async (): Promise<Connector[]> =>
      (await this.request<{ connectors: Connector[] }>('GET', '/v1/connectors')).connectors,
    /** One connector with its state and status. */
    describe: (name: string): Promise<Connector> => this.request('GET', `/v1/connectors/${seg(name)}`),
    /** Pauses, resumes or reconfigures a connector. */
    update: (name: string, change: { state?: 'running' | 'paused'; config?: Record<string, unknown> }) =>
      this.request<Connector>('PATCH', `/v1/connectors/${seg(name)}`, { body: change }),
    /** Deletes a connector. */
    delete: async (name: string): Promise<void> => {
      await this.request('DELETE', `/v1/connectors/${seg(name)}`);
    },
  };

  /** Tenant administration (needs the operator key). */
  readonly tenants = {
    /** Creates a tenant and its first key (shown once). */
    create: (tenant: {
      name: string;
      quotas?: Record<string, number>;
    }): Promise<{
      tenantId: string;
      apiKey: string;
      [field: string]: unknown;
    }> => this.request('POST', '/admin/v1/tenants', { body: tenant }),
    /** All tenants. */
    list: async (): Promise<Record<string, unknown>[]> =>
      (await this.request<{ tenants: Record<string, unknown>[] }>('GET', '/admin/v1/tenants')).tenants,
    /** One tenant. */
    describe: (tenantId: string): Promise<Record<string, unknown>> =>
      this.request('GET', `/admin/v1/tenants/${seg(tenantId)}`),
    /** Changes a tenant's quotas. */
    update: (tenantId: string, change: { quotas: Record<string, number | null> }) =>
      this.request<Record<string, unknown>>('PATCH', `/admin/v1/tenants/${seg(tenantId)}`, { body: change }),
    /** Deletes a tenant; its keys stop working at once. */
    delete: async (tenantId: string): Promise<void> => {
      await this.request('DELETE', `/admin/v1/tenants/${seg(tenantId)}`);
    },
  };

  /** Whether the service answers `GET /healthz`. */
  async health(): Promise<boolean> {
    try {
      await this.transport.request('GET', '/healthz');
      return true;
    } catch (error) {
      if (error instanceof RunnelError) return false;
      throw error;
    }
  }
}

/** A wire record with its topic and partition. */
export const toConsumed = (r: WireFetched, topic: string, partition: number): ConsumedRecord => ({
  topic: r.topic ?? topic,
  partition: r.partition ?? partition,
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key,
  value: r.value,
  headers: r.headers ?? [],
});
