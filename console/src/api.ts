/**
 * The console's one door to the Runnel HTTP API. Every screen calls these functions, never
 * `fetch` directly, so the transport can move to the `@runnel/client` SDK in one place.
 * The key travels only in the Authorization header: never in a URL, never logged.
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

export interface Topic {
  name: string;
  partitions: number;
  retentionMs: number;
  createdAt: number;
}
export interface PartitionState {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  retainedBytes?: number;
}
export interface TopicDetail extends Topic {
  partitionStates: PartitionState[];
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
export interface Permission {
  resource: string;
  actions: string[];
}
export interface ApiKey {
  keyId: string;
  name: string;
  permissions: Permission[];
  createdAt: number;
  lastUsedAt?: number;
}
export interface Connector {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  state: string;
  createdAt: number;
  status?: { records?: number; lastError?: string; lastErrorAt?: number };
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

/** A client for one key. Create one per session; it holds the key in memory only. */
export class Api {
  /**
   * @param baseUrl the API's origin ('' for the page's own)
   * @param streamUrl where Server-Sent Event streams are served, when elsewhere (in AWS, a streaming Function URL)
   */
  constructor(
    private readonly apiKey: string,
    private readonly baseUrl = '',
    private readonly streamUrl = baseUrl,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers: {
          Authorization: `Bearer ${this.apiKey}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError({ title: 'Network error', status: 0, detail: 'The Runnel API could not be reached.' });
    }
    if (!response.ok) throw new ApiError(await problemOf(response));
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  // Topics
  listTopics = () => this.request<{ topics: Topic[] }>('GET', '/v1/topics').then((r) => r.topics);
  getTopic = (name: string) => this.request<TopicDetail>('GET', `/v1/topics/${enc(name)}`);
  createTopic = (body: { name: string; partitions: number; retentionMs?: number }) =>
    this.request<Topic>('POST', '/v1/topics', body);
  updateTopic = (name: string, body: { partitions?: number; retentionMs?: number }) =>
    this.request<Topic>('PATCH', `/v1/topics/${enc(name)}`, body);
  deleteTopic = (name: string) => this.request<void>('DELETE', `/v1/topics/${enc(name)}`);

  // Records
  produce = (
    topic: string,
    records: { key: string | null; value: string | null; headers: Header[]; partition?: number }[],
  ) =>
    this.request<{ offsets: ProducedOffset[] }>('POST', `/v1/topics/${enc(topic)}/records`, {
      records,
      encoding: 'utf8',
    });
  fetchRecords = (
    topic: string,
    partition: number,
    offset: number | 'earliest' | 'latest',
    maxRecords: number,
    signal?: AbortSignal,
  ) =>
    this.request<FetchResponse>(
      'GET',
      `/v1/topics/${enc(topic)}/partitions/${partition}/records?offset=${offset}&maxRecords=${maxRecords}&encoding=base64`,
      undefined,
      signal,
    );
  offsetForTime = (topic: string, partition: number, timestamp: number) =>
    this.request<{ offset: number }>(
      'GET',
      `/v1/topics/${enc(topic)}/partitions/${partition}/offsets?timestamp=${timestamp}`,
    ).then((r) => r.offset);

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
  listGroups = () => this.request<{ groups: GroupSummary[] }>('GET', '/v1/groups').then((r) => r.groups);
  getGroup = (group: string) => this.request<GroupDetail>('GET', `/v1/groups/${enc(group)}`);
  commitOffsets = (group: string, offsets: { topic: string; partition: number; offset: number }[]) =>
    this.request<void>('POST', `/v1/groups/${enc(group)}/offsets`, { offsets });
  deleteGroup = (group: string) => this.request<void>('DELETE', `/v1/groups/${enc(group)}`);

  // Keys
  listKeys = () => this.request<{ keys: ApiKey[] }>('GET', '/v1/keys').then((r) => r.keys);
  createKey = (body: { name: string; permissions: Permission[] }) =>
    this.request<ApiKey & { apiKey: string }>('POST', '/v1/keys', body);
  revokeKey = (keyId: string) => this.request<void>('DELETE', `/v1/keys/${enc(keyId)}`);

  // Connectors
  listConnectors = () => this.request<{ connectors: Connector[] }>('GET', '/v1/connectors').then((r) => r.connectors);
  createConnector = (body: { name: string; kind: string; config: unknown }) =>
    this.request<Connector>('POST', '/v1/connectors', body);
  setConnectorState = (name: string, state: 'running' | 'paused') =>
    this.request<Connector>('PATCH', `/v1/connectors/${enc(name)}`, { state });
  deleteConnector = (name: string) => this.request<void>('DELETE', `/v1/connectors/${enc(name)}`);

  // Tenants (operator key)
  listTenants = () => this.request<{ tenants: Tenant[] }>('GET', '/admin/v1/tenants').then((r) => r.tenants);
  createTenant = (name: string) =>
    this.request<{ tenantId: string; apiKey: string }>('POST', '/admin/v1/tenants', { name });
  deleteTenant = (id: string) => this.request<void>('DELETE', `/admin/v1/tenants/${enc(id)}`);
}
