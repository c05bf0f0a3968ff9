import { createApp } from '#shared/app/create-app';
import { hashApiKey } from '#shared/domain/api-keys';
import {
  MemoryLogIndex,
  MemoryMetadataStore,
  MemorySegmentStore,
  MemoryUsageStore,
  unusedConnectorStore,
  unusedGroupStore,
  unusedIdempotencyStore,
} from './memory-ports';
import { BENCH_OPERATOR_KEY, callJson, produceBody, type Requester } from './stack';

export interface HandlerCpu {
  recordsPerRequest: number;
  recordBytes: number;
  requests: number;
  /** CPU time (user + system) of the process per produce request, in µs. */
  produceUsPerRequest: number;
  produceUsPerRecord: number;
  /** Per fetch request returning `recordsPerRequest` records. */
  fetchUsPerRequest: number;
  fetchUsPerRecord: number;
}

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/**
 * The handler's CPU time with I/O taken out: the real app (routing, auth, schema validation (valibot),
 * JSON, wire decoding, batch encoding and CRC, decoding, response JSON) over in-memory
 * ports, called with `app.request` exactly as the Lambda adapter calls it. Measured with
 * process.cpuUsage() around three rounds of `requests / 3` calls after a warm-up (JIT and
 * GC included); the least round counts.
 */
export const measureHandlerCpu = async (options: {
  recordsPerRequest: number;
  recordBytes: number;
  requests: number;
  warmup?: number;
}): Promise<HandlerCpu> => {
  const { recordsPerRequest, recordBytes, requests } = options;
  const warmup = options.warmup ?? Math.max(3, Math.ceil(requests / 5));
  const metadata = new MemoryMetadataStore();
  const deps = {
    metadata,
    index: new MemoryLogIndex(),
    segments: new MemorySegmentStore(),
    usage: new MemoryUsageStore(),
    groups: unusedGroupStore,
    connectors: unusedConnectorStore,
    idempotency: unusedIdempotencyStore,
    operatorKeyHash: hashApiKey(BENCH_OPERATOR_KEY),
    log: () => {},
  };
  const app = createApp(deps);
  const created = await callJson<{ apiKey: string }>(
    async (path, init) => app.request(path, init),
    '/admin/v1/tenants',
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${BENCH_OPERATOR_KEY}`, 'Content-Type': 'application/json' },
      // Quotas far above the measurement: it must never throttle itself.
      body: JSON.stringify({
        name: 'cpu',
        quotas: { produceBytesPerSec: 100 * 2 ** 30, fetchBytesPerSec: 100 * 2 ** 30 },
      }),
    },
  );
  // The headers a Lambda event carries: the client's Content-Length among them (hono's
  // body limit then trusts it instead of counting the body's bytes as a stream).
  const request: Requester = async (path, init = {}) =>
    app.request(path, {
      ...init,
      headers: {
        Authorization: `Bearer ${created.apiKey}`,
        'Content-Type': 'application/json',
        ...(typeof init.body === 'string' ? { 'Content-Length': String(Buffer.byteLength(init.body)) } : {}),
      },
    });
  await callJson(request, '/v1/topics', { method: 'POST', body: JSON.stringify({ name: 'cpu', partitions: 1 }) });

  const body = produceBody(recordsPerRequest, recordBytes);
  const produce = () => callJson(request, '/v1/topics/cpu/records', { method: 'POST', body });
  const maxBytes = Math.min(4 * 1024 * 1024, recordsPerRequest * recordBytes);
  const fetchPath = `/v1/topics/cpu/partitions/0/records?offset=0&maxRecords=${recordsPerRequest}&maxBytes=${maxBytes}`;
  const fetchOnce = async () => {
    const page = await callJson<{ records: unknown[] }>(request, fetchPath);
    if (page.records.length === 0) throw new Error('fetch returned nothing');
    return page.records.length;
  };

  // The least of three rounds: other processes on a shared machine only ever add CPU time
  // (cache and frequency interference), so the minimum is the best estimate of the handler's own.
  const rounds = 3;
  const perRound = Math.max(1, Math.ceil(requests / rounds));
  for (let i = 0; i < warmup; i++) await produce();
  let produceUs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = cpuMicros();
    for (let i = 0; i < perRound; i++) await produce();
    produceUs = Math.min(produceUs, (cpuMicros() - start) / perRound);
  }

  for (let i = 0; i < warmup; i++) await fetchOnce();
  let fetchUs = Number.POSITIVE_INFINITY;
  let fetchUsPerRecord = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    let fetched = 0;
    const start = cpuMicros();
    for (let i = 0; i < perRound; i++) fetched += await fetchOnce();
    const used = cpuMicros() - start;
    fetchUs = Math.min(fetchUs, used / perRound);
    fetchUsPerRecord = Math.min(fetchUsPerRecord, used / fetched);
  }

  return {
    recordsPerRequest,
    recordBytes,
    requests: perRound * rounds,
    produceUsPerRequest: produceUs,
    produceUsPerRecord: produceUs / recordsPerRequest,
    fetchUsPerRequest: fetchUs,
    fetchUsPerRecord,
  };
};
