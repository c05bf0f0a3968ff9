import {
  type Connector,
  type PartitionState,
  type Permission,
  Runnel,
  RunnelError,
  type Topic,
  type TopicDescription as TopicDetail,
} from '@runnel/client';

/** The API's own shapes, as the SDK declares them. */
export type { Connector, PartitionState, Permission, Topic, TopicDetail };

/**
 * The console's one door to the Runnel HTTP API, through the `@runnel/client` SDK (the
 * live tail reads the Server-Sent Events stream with `fetch` itself). Every screen calls
 * these methods. The key travels only in the Authorization header: never in a URL,
 * never logged.
 */

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
}

/** A failed call, carrying the API's problem details (RFC 9457). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.name = 'ApiError';
  }
}

export interface Header {
  key: string;
  value: string | null;
}
/** A record as fetched with `encoding=base64`: key, value and header values are base64. */
export interface WireRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers?: Header[];
  partition?: number;
}
export interface FetchResponse {
  records: WireRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}
export interface ProducedOffset {
  partition: number;
  offset: number;
  timestamp: number;
}
export interface GroupSummary {
  group: string;
  generation: number;
  members: number;
}
export interface GroupDetail {
  group: string;
  generation: number;
  members: {
    memberId: string;
    topics: string[];
    assignments: { topic: string; partitions: number[] }[];
    lastHeartbeat: number;
  }[];
  partitions: {
    topic: string;
    partition: number;
    committedOffset: number | null;
    highWatermark: number;
    lag: number | null;
  }[];
}
export interface ApiKey {
  keyId: string;
  name: string;
  permissions: Permission[];
  createdAt: number;
  lastUsedAt?: number;
}
export interface Tenant {
  tenantId: string;
  name: string;
  createdAt: number;
  quotas?: Record<string, number>;
}

const enc = encodeURIComponent;

const problemOf = async (response: Response): Promise<Problem> => {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body.title === 'string') return { ...body, title: body.title, status: response.status };
  } catch {
    // not JSON: fall through
  }
  return {
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text.slice(0, 300),
  };
};

/** The SDK's error as the problem the console shows (title, detail, code). */
const fromSdk = (error: unknown): unknown => {
  if (!(error instanceof RunnelError)) return error;
  if (error.status === 0) {
    return new ApiError({ title: 'Network error', status: 0, detail: error.detail, code: error.code });
  }
  return new ApiError({ title: error.title, status: error.status, detail: error.detail, code: error.code });
};

/** A client for one key. Create one per session; it holds the key in memory only. */
export class Api {
  private readonly client: Runnel;

  /**
   * @param baseUrl the API's origin (the page's own by default)
   * @param streamUrl where Server-Sent Event streams are served, when elsewhere
   */
  constructor(
    private readonly apiKey: string,
    baseUrl = location.origin,
    private readonly streamUrl = baseUrl,
  ) {
    this.client = new Runnel({ url: baseUrl, apiKey });
  }

  private async call<T>(action: (client: Runnel) => Promise<T>): Promise<T> {
    try {
      return await action(this.client);
    } catch (error) {
      throw fromSdk(error);
    }
  }

  // Topics
  listTopics = () => this.call((c) => c.topics.list());
  getTopic = (name: string) => this.call((c) => c.topics.describe(name) as Promise<TopicDetail>);
  createTopic = (body: { name: string; partitions: number; retentionMs?: number }) =>
    this.call((c) => c.topics.create(body));
  updateTopic = (name: string, body: { partitions?: number; retentionMs?: number }) =>
    this.call((c) => c.topics.update(name, body));
  deleteTopic = (name: string) => this.call((c) => c.topics.delete(name));

  // Records
  produce = (
    topic: string,
    records: { key: string | null; value: string | null; headers: Header[]; partition?: number }[],
  ) => this.call(async (c) => ({ offsets: await c.produce(topic, records) }));
  fetchRecords = (topic: string, partition: number, offset: number | 'earliest' | 'latest', maxRecords: number) =>
    this.call((c) => c.fetch(topic, partition, { offset, maxRecords, encoding: 'base64' }) as Promise<FetchResponse>);
  offsetForTime = (topic: string, partition: number, timestamp: number) =>
    this.call((c) => c.offsetForTimestamp(topic, partition, timestamp));

  /**
   * Follows every partition of a topic live by Server-Sent Events, read with `fetch` so the
   * key stays in a header (an EventSource would need it in the URL). Resolves when the
   * stream ends; reconnects are the caller's choice.
   */
  async tail(
    topic: string,
    from: string | undefined,
    handlers: { onOpen: () => void; onRecords: (records: WireRecord[], lastEventId: string) => void },
    signal: AbortSignal,
  ): Promise<void> {
    // A reconnect resumes exactly where the last event left off; a first connect starts at the end.
    const query = from ? 'encoding=base64' : 'offset=latest&encoding=base64';
    const response = await fetch(`${this.streamUrl}/v1/topics/${enc(topic)}/records?${query}`, {
      headers: {
        Authorization: `Bearer ${this.apiKey}`,
        Accept: 'text/event-stream',
        ...(from ? { 'Last-Event-ID': from } : {}),
      },
      signal,
    });
    if (!response.ok) throw new ApiError(await problemOf(response));
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      throw new ApiError({
        title: 'Live tail unavailable',
        status: response.status,
        detail: 'The server did not answer with an event stream.',
      });
    }
    handlers.onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        let id = '';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('id:')) id = line.slice(3).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event === 'records') handlers.onRecords((JSON.parse(data.join('\n')) as FetchResponse).records, id);
        else if (event === 'error') throw new ApiError(JSON.parse(data.join('\n')) as Problem);
      }
    }
  }

  // Consumer groups
  listGroups = () => this.call((c) => c.groups.list() as Promise<GroupSummary[]>);
  getGroup = (group: string) => this.call((c) => c.groups.describe(group) as Promise<GroupDetail>);
  commitOffsets = (group: string, offsets: { topic: string; partition: number; offset: number }[]) =>
    this.call((c) => c.groups.commit(group, offsets));
  deleteGroup = (group: string) => this.call((c) => c.groups.delete(group));

  // Keys
  listKeys = () => this.call((c) => c.keys.list() as Promise<unknown> as Promise<ApiKey[]>);
  createKey = (body: { name: string; permissions: Permission[] }) => this.call((c) => c.keys.create(body));
  revokeKey = (keyId: string) => this.call((c) => c.keys.revoke(keyId));

  // Connectors
  listConnectors = () => this.call((c) => c.connectors.list() as Promise<unknown> as Promise<Connector[]>);
  createConnector = (body: { name: string; kind: string; config: Record<string, unknown> }) =>
    this.call((c) => c.connectors.create(body));
  setConnectorState = (name: string, state: 'running' | 'paused') =>
    this.call((c) => c.connectors.update(name, { state }));
  deleteConnector = (name: string) => this.call((c) => c.connectors.delete(name));

  // Tenants (operator key)
  listTenants = () => this.call((c) => c.tenants.list() as Promise<unknown> as Promise<Tenant[]>);
  createTenant = (name: string) => this.call((c) => c.tenants.create({ name }));
  deleteTenant = (id: string) => this.call((c) => c.tenants.delete(id));
}
