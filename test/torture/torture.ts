import { type CrashPoint, FaultInjector, seededPrng } from '../faults/fault-injector';
import { type Api, apiClient, type Stack, startStack } from '../harness';
import { isUsageCall } from '../tenant-state';

/**
 * A Jepsen-style checker for the write path. Concurrent producers write unique values
 * (some with an Idempotency-Key, some with producerId + sequence, some plain, at least
 * once), consumers tail every partition, and faults are injected into every SDK call:
 * errors before the store, lost acknowledgements, delays, and requests that die at a
 * crash point. Timeouts, crashes and 5xx answers are indeterminate: the client retries.
 * Then faults stop, the consumers read up to every partition's high watermark, every
 * partition is drained from offset 0, and the history is checked.
 */
export interface TortureOptions {
  seed: number;
  /** How long producers start new requests (the soak, `npm run torture`); ignored with `requests`. */
  seconds: number;
  /** Requests per producer instead of a time budget: the same work however fast the machine is (the suite's run). */
  requests?: number;
  /** Producers per tenant. @default 6 */
  producers?: number;
  /** Probability that one attempt of a request dies at a crash point. @default 0.08 */
  crashRate?: number;
  /** Probability of each fault kind per SDK call. @default 0.015 */
  faultRate?: number;
  /** Client-side timeout of one attempt (ms). @default 4000 */
  attemptTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface TortureReport {
  seed: number;
  seconds: number;
  /** `solo`: acknowledged requests of the solo topics (one producer each, in their tail era). */
  requests: { acked: number; unknown: number; byMode: Record<Mode, number>; solo: number };
  ackedRecords: number;
  readRecords: number;
  attempts: { total: number; indeterminate: number; inProgress409: number; unexpected: number };
  /** Indeterminate answers by kind (timeout, status and code). */
  indeterminateBy: Record<string, number>;
  lost: number;
  duplicated: number;
  /** Plain (at-least-once) records that appear more than once: allowed, reported. */
  plainDuplicates: number;
  offsetsHandedOutTwice: number;
  ackMismatches: number;
  reordered: number;
  /** Fetches that returned nothing while reporting a high watermark above their offset (a race, not a skip). */
  staleEmptyReads: number;
  holes: number;
  /** Offsets readers passed as marked gaps (reservations of attempts that died before their put). */
  gapOffsetsPassed: number;
  /** Offsets a consumer passed that hold a record (a skip): must be 0. */
  skipped: number;
  /**
   * Longest time a consumer stood at one offset below the high watermark with nothing to
   * read (a hole: a writer between its reservation and its put, or one that died there) (ms).
   */
  worstReaderStallMs: number;
  /** Longest DynamoDB call from send to answer (ms): the lease argument assumes it stays under the settle margin. */
  worstCallMs: number;
  settleMs: number;
  tornBatches: number;
  foreignValues: number;
  recovered: number;
  unknownLanded: number;
  faults: Record<string, number>;
  /** Longest time from an acknowledgement to a consumer seeing the record (ms). */
  worstVisibilityLagMs: number;
  /** Solo partitions (one per tenant, one producer) still in their tail era at the end: no race ended it. */
  soloTailEra: number;
  violations: string[];
}

type Mode = 'key' | 'sequence' | 'plain';
const TOPIC = 'torture';
/**
 * A one-partition topic per tenant that one producer writes, one request at a time: its
 * partition stays in its tail era (appends at the tail, no counter) unless a retry races an
 * attempt still running, which ends the era under faults.
 */
const SOLO = 'solo';
/** The gap bound of the run: readers mark a hole whose next entry is older than this (> W + settle). */
const GAP_BOUND_MS = 2500;
const SETTLE_MS = Number(process.env.TORTURE_SETTLE_MS ?? 3000);
const PARTITIONS = 3;

interface Written {
  tenant: string;
  topic: string;
  mode: Mode;
  requestId: string;
  /** values by partition they were acked at (after an ack) */
  ack?: { partition: number; offset: number }[];
  ackAt?: number;
  values: string[];
  /** partition requested per record (undefined: key or sticky) */
}

/** Back-off and client timeouts (never synchronization); an aborted sleep never resolves. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });

export const runTorture = async (options: TortureOptions): Promise<TortureReport> => {
  const log = options.log ?? (() => {});
  const random = seededPrng(options.seed ^ 0x5eed);
  const rate = options.faultRate ?? 0.015;
  const faults = new FaultInjector({
    seed: options.seed,
    rates: {
      throttle: rate,
      'server-error': rate,
      'slow-down': rate,
      'connection-reset': rate,
      'ack-lost': rate,
      delay: 4 * rate,
    },
    maxDelayMs: 40,
    // A usage-shard read a dead request had started (or a write it was retrying) still
    // completes: later requests of the tenant on this instance may wait on that read
    // (quotas.ts shares one read per tenant), so in this one process it would hang the
    // tenant, which a real crash (the instance dies with its quota state) cannot do.
    outlivesCrash: isUsageCall,
  });
  faults.enabled = false; // setup runs fault-free
  let recovered = 0;
  let worstCallMs = 0;
  const stack: Stack = await startStack({
    exactlyOnce: {
      // settleMs bounds how long a call already sent can still land (the lease argument,
      // docs/exactly-once.md). The emulators run without SDK timeouts on a shared machine,
      // so the run reports the longest call it saw (worstCallMs) against it.
      timing: { leaseMs: 2 * SETTLE_MS, settleMs: SETTLE_MS },
      afterStep: (step) => {
        if (step === 'took-over') recovered++;
      },
    },
    attach: (clients) => {
      faults.attach(clients);
      // Outermost: from the service's send to the answer, SDK retries and socket queueing included.
      clients.dynamodb.middlewareStack.add(
        (next) => async (args) => {
          const started = Date.now();
          try {
            return await next(args);
          } finally {
            worstCallMs = Math.max(worstCallMs, Date.now() - started);
          }
        },
        { step: 'initialize', name: 'tortureCallTimer' },
      );
    },
    // Short bounds so that holes of crashed writers are passed within the run (G > W + settle).
    gaps: { gapBoundMs: GAP_BOUND_MS, reservationBoundMs: 500 },
  });
  const tenantB = await stack.services.tenants.create('tenant-b');
  const tenants: { name: string; tenantId: string; api: Api }[] = [
    { name: 'A', tenantId: stack.tenantId, api: stack.api },
    { name: 'B', tenantId: tenantB.tenant.tenantId, api: apiClient(stack.app, tenantB.apiKey) },
  ];
  for (const t of tenants) {
    const res = await t.api.post('/v1/topics', { name: TOPIC, partitions: PARTITIONS });
    if (res.status !== 201) throw new Error(`topic: ${res.status}`);
    const solo = await t.api.post('/v1/topics', { name: SOLO, partitions: 1 });
    if (solo.status !== 201) throw new Error(`topic: ${solo.status}`);
  }
  /** Every partition the run writes and reads: the shared topic's, and each tenant's solo one. */
  const lanes = [
    ...Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })),
    { topic: SOLO, partition: 0 },
  ];
  faults.enabled = true;

  const crashPoints: CrashPoint[] = [
    { operation: 'PutObject', count: 1 },
    // Between a partition's tail read and its put at the tail (the tail era), or the fence's reads.
    { operation: 'Query', table: 'log', count: 1 },
    // Between a partition's reservation (UpdateItem on its counter) and its entry's put: a hole.
    { operation: 'UpdateItem', table: 'log', count: 1 },
    { operation: 'UpdateItem', table: 'log', count: 2 },
    { operation: 'PutItem', table: 'log', count: 1 },
    { operation: 'PutItem', table: 'log', count: 2 },
    { operation: 'PutItem', table: 'metadata', count: 1 },
    { operation: 'UpdateItem', table: 'metadata', count: 1 },
    { operation: 'UpdateItem', table: 'metadata', count: 2 },
  ];
  const written: Written[] = [];
  const attempts = { total: 0, indeterminate: 0, inProgress409: 0, unexpected: 0 };
  const indeterminateBy = new Map<string, number>();
  const violations: string[] = [];
  const deadline = Date.now() + options.seconds * 1000;
  const timeoutMs = options.attemptTimeoutMs ?? 4000;
  const seen = new Map<string, number>(); // value → first seen by a consumer (ms)
  let readRecords = 0;
  let reordered = 0;
  let staleEmptyReads = 0;
  let foreignValues = 0;
  let worstReaderStallMs = 0;
  /** Offset ranges consumers passed without a record: each must hold nothing in the final log. */
  const passed: { lane: string; from: number; to: number }[] = [];
  /** Where each consumer stops (tenant/topic/partition → high watermark once producers are done). */
  const targets = new Map<string, number>();

  const producer = async (tenant: (typeof tenants)[number], index: number, topic = TOPIC) => {
    const mode: Mode = (['key', 'sequence', 'plain'] as const)[index % 3] as Mode;
    const producerId = `${topic}-p${index}-${options.seed}`;
    let sequence = 0;
    const more = (n: number) => (options.requests === undefined ? Date.now() < deadline : n < options.requests);
    for (let n = 0; more(n); n++) {
      const count = 1 + Math.floor(random() * 4);
      const large = random() < 0.2;
      const requestId = `${tenant.name}|${topic}|${mode}|${index}|${n}`;
      const values = Array.from({ length: count }, (_, i) => `${requestId}|${i}`);
      const records = values.map((value) => {
        const r = random();
        const padded = large ? `${value}|${'x'.repeat(5000)}` : value;
        if (r < 0.3 && topic === TOPIC) return { value: padded, partition: Math.floor(random() * PARTITIONS) };
        if (r < 0.6) return { key: `k${Math.floor(random() * 20)}`, value: padded };
        return { value: padded };
      });
      const body: Record<string, unknown> = { records };
      if (mode === 'sequence') Object.assign(body, { producerId, sequence });
      const headers: Record<string, string> =
        mode === 'key' ? { 'Idempotency-Key': `${requestId}|${options.seed}` } : {};
      const w: Written = { tenant: tenant.name, topic, mode, requestId, values };
      written.push(w);
      // Retry until acknowledged; idempotent modes must not give up (the next sequence depends on it).
      for (let attempt = 0; attempt < 60; attempt++) {
        attempts.total++;
        const crashAfter =
          random() < (options.crashRate ?? 0.08) ? crashPoints[Math.floor(random() * crashPoints.length)] : undefined;
        // A crashed attempt never answers: its client sees the connection drop (at once, not
        // after its timeout). The timeout covers attempts that are merely slow.
        let crashed!: () => void;
        const died = new Promise<'crashed'>((resolve) => {
          crashed = () => resolve('crashed');
        });
        const timer = new AbortController();
        const outcome = await Promise.race([
          faults.runRequest(crashAfter ? { crashAfter, onCrash: crashed } : {}, () =>
            tenant.api.request('POST', `/v1/topics/${topic}/records`, body, headers),
          ),
          died,
          sleep(timeoutMs, timer.signal).then(() => 'timeout' as const),
        ]);
        timer.abort();
        if (outcome === 'timeout' || outcome === 'crashed' || outcome.status >= 500) {
          attempts.indeterminate++;
          const kind = typeof outcome === 'string' ? outcome : `${outcome.status} ${outcome.body?.code}`;
          indeterminateBy.set(kind, (indeterminateBy.get(kind) ?? 0) + 1);
          await sleep(50 + random() * 100);
          continue;
        }
        if (outcome.status === 409 && outcome.body?.code === 'idempotency_in_progress') {
          attempts.inProgress409++;
          await sleep(200 + random() * 200);
          continue;
        }
        if (outcome.status !== 200) {
          attempts.unexpected++;
          violations.push(`${requestId}: unexpected ${outcome.status} ${JSON.stringify(outcome.body)}`);
          break;
        }
        const acked = (outcome.body.offsets as { partition: number; offset: number }[]).map((o) => ({
          partition: o.partition,
          offset: o.offset,
        }));
        if (w.ack && JSON.stringify(w.ack) !== JSON.stringify(acked)) {
          violations.push(`${requestId}: two acks with different offsets`);
        }
        w.ack = acked;
        w.ackAt = Date.now();
        // An idempotent retry after an ack must answer the same: check it now and then.
        if (mode !== 'plain' && random() < 0.1) continue;
        break;
      }
      if (mode === 'sequence') sequence++;
    }
  };

  const consumer = async (tenant: (typeof tenants)[number], { topic, partition }: (typeof lanes)[number]) => {
    const lane = `${tenant.name}/${topic}/${partition}`;
    let offset = 0;
    let lastHighWatermark = 0;
    /** Since when the consumer stands at `offset` below the high watermark with nothing to read. */
    let stuckSince: number | undefined;
    for (;;) {
      const target = targets.get(lane);
      if (target !== undefined && offset >= target) break;
      const res = await tenant.api.get(
        `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&maxRecords=100`,
      );
      if (res.status !== 200) {
        await sleep(20);
        continue;
      }
      const { records, nextOffset, highWatermark } = res.body as {
        records: { offset: number; value: string }[];
        nextOffset: number;
        highWatermark: number;
      };
      if (highWatermark < lastHighWatermark) {
        reordered++;
        violations.push(`${lane}: high watermark went back ${lastHighWatermark} → ${highWatermark}`);
      }
      lastHighWatermark = highWatermark;
      const before = offset;
      for (const r of records) {
        if (r.offset < offset) {
          reordered++;
          violations.push(`${lane}: expected offset ${offset}, got ${r.offset}`);
        }
        // Offsets passed without a record: a marked gap (checked against the final log below).
        if (r.offset > offset) passed.push({ lane, from: offset, to: r.offset });
        offset = r.offset + 1;
        readRecords++;
        const value = String(r.value);
        if (!value.startsWith(`${tenant.name}|`)) foreignValues++;
        const id = value.split('|').slice(0, 6).join('|');
        if (!seen.has(id)) seen.set(id, Date.now());
      }
      // An append can land between the fetch's bounds query and its read: the answer then
      // holds no record yet reports a higher high watermark. Nothing is skipped (the next
      // fetch returns them), so this is counted, not a violation.
      if (records.length === 0 && nextOffset < highWatermark) staleEmptyReads++;
      if (nextOffset > offset) {
        passed.push({ lane, from: offset, to: nextOffset });
        offset = nextOffset;
      }
      const now = Date.now();
      if (offset > before || offset >= highWatermark) {
        if (stuckSince !== undefined) worstReaderStallMs = Math.max(worstReaderStallMs, now - stuckSince);
        stuckSince = undefined;
      } else {
        stuckSince ??= now;
      }
      if (records.length === 0) await sleep(50);
    }
  };

  const producers = tenants.flatMap((t) => [
    ...Array.from({ length: options.producers ?? 6 }, (_, i) => producer(t, i)),
    // The solo topic's one producer: idempotent (Idempotency-Key), one request at a time.
    producer(t, 0, SOLO),
  ]);
  const consumers = tenants.flatMap((t) => lanes.map((lane) => consumer(t, lane)));
  await Promise.all(producers);
  log('producers done; draining without faults');
  faults.enabled = false;
  // Every acknowledged record is below these high watermarks: the consumers read up to them.
  for (const t of tenants) {
    for (const topic of [TOPIC, SOLO]) {
      const res = await t.api.get(`/v1/topics/${topic}`);
      if (res.status !== 200) throw new Error(`high watermarks ${t.name}: ${res.status}`);
      for (const p of res.body.partitionStates as { partition: number; highWatermark: number }[]) {
        targets.set(`${t.name}/${topic}/${p.partition}`, p.highWatermark);
      }
    }
  }
  await Promise.all(consumers);

  // The drain: every partition from offset 0, fault-free.
  const finalLog = new Map<string, { tenant: string; topic: string; partition: number; offset: number }[]>();
  let holes = 0;
  let gapOffsetsPassed = 0;
  const held = new Set<string>();
  for (const t of tenants) {
    for (const { topic, partition: p } of lanes) {
      let offset = 0;
      for (;;) {
        const res = await t.api.get(`/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&maxRecords=1000`);
        if (res.status !== 200) throw new Error(`drain ${t.name}/${topic}/${p}: ${res.status}`);
        for (const r of res.body.records as { offset: number; value: string }[]) {
          // The drain passes marked gaps; whether anything was skipped shows as lost records.
          if (r.offset > offset) gapOffsetsPassed += r.offset - offset;
          if (r.offset < offset) holes++;
          offset = r.offset + 1;
          held.add(`${t.name}/${topic}/${p}/${r.offset}`);
          const id = String(r.value).split('|').slice(0, 6).join('|');
          const list = finalLog.get(id) ?? [];
          list.push({ tenant: t.name, topic, partition: p, offset: r.offset });
          finalLog.set(id, list);
          if (!String(r.value).startsWith(`${t.name}|`)) foreignValues++;
        }
        if (res.body.nextOffset > offset) {
          gapOffsetsPassed += res.body.nextOffset - offset;
          offset = res.body.nextOffset;
        }
        if (offset >= res.body.highWatermark) break;
      }
    }
  }

  let lost = 0;
  let duplicated = 0;
  let plainDuplicates = 0;
  let offsetsHandedOutTwice = 0;
  let ackMismatches = 0;
  let tornBatches = 0;
  let unknownLanded = 0;
  let ackedRecords = 0;
  let worstVisibilityLagMs = 0;
  const ackedAt = new Map<string, string>();
  const byMode: Record<Mode, number> = { key: 0, sequence: 0, plain: 0 };
  for (const w of written) {
    const places = w.values.map((v) => finalLog.get(v) ?? []);
    if (w.ack) {
      byMode[w.mode]++;
      w.values.forEach((v, i) => {
        ackedRecords++;
        const ack = w.ack?.[i] as { partition: number; offset: number };
        const at = places[i] ?? [];
        if (at.length === 0) {
          lost++;
          violations.push(`lost: ${v} acked at ${ack.partition}/${ack.offset}`);
        } else if (!at.some((x) => x.topic === w.topic && x.partition === ack.partition && x.offset === ack.offset)) {
          ackMismatches++;
          violations.push(`${v} acked at ${ack.partition}/${ack.offset}, found at ${JSON.stringify(at)}`);
        }
        const slot = `${w.tenant}/${w.topic}/${ack.partition}/${ack.offset}`;
        if (ackedAt.has(slot)) {
          offsetsHandedOutTwice++;
          violations.push(`offset ${slot} acknowledged to ${ackedAt.get(slot)} and ${v}`);
        }
        ackedAt.set(slot, v);
        const firstSeen = seen.get(v);
        if (firstSeen !== undefined && w.ackAt !== undefined) {
          worstVisibilityLagMs = Math.max(worstVisibilityLagMs, firstSeen - w.ackAt);
        }
      });
    } else if (places.some((p) => p.length > 0)) {
      unknownLanded++;
    }
    places.forEach((at, i) => {
      if (at.length > 1) {
        if (w.mode === 'plain') plainDuplicates++;
        else {
          duplicated++;
          violations.push(`duplicate: ${w.values[i]} at ${JSON.stringify(at)}`);
        }
      }
    });
    // Per partition, a request's records land together (one batch: consecutive offsets) or not at all.
    const byPartition = new Map<number, number[]>();
    for (const at of places) {
      const first = at[0];
      if (!first) continue;
      const list = byPartition.get(first.partition) ?? [];
      list.push(first.offset);
      byPartition.set(first.partition, list);
    }
    if (w.mode !== 'plain') {
      for (const [, list] of byPartition) {
        const offsets = list.sort((a, b) => a - b);
        if (offsets.some((o, i) => i > 0 && o !== (offsets[i - 1] as number) + 1)) tornBatches++;
      }
    }
  }
  let skipped = 0;
  for (const range of passed) {
    for (let o = range.from; o < range.to; o++) {
      if (held.has(`${range.lane}/${o}`)) {
        skipped++;
        violations.push(`${range.lane}: a consumer passed offset ${o}, which holds a record`);
      }
    }
  }
  const acked = written.filter((w) => w.ack).length;
  // Which solo partitions kept their tail era to the end (no race ended it): no counter.
  let soloTailEra = 0;
  for (const t of tenants) {
    const topic = await stack.services.topics.get(t.tenantId, SOLO);
    const counter = await stack.deps.index.readCounter({ tenantId: t.tenantId, topicId: topic.topicId, partition: 0 });
    if (!counter) soloTailEra++;
  }
  const report: TortureReport = {
    seed: options.seed,
    seconds: options.seconds,
    requests: {
      acked,
      unknown: written.length - acked,
      byMode,
      solo: written.filter((w) => w.ack && w.topic === SOLO).length,
    },
    ackedRecords,
    readRecords,
    attempts,
    indeterminateBy: Object.fromEntries(indeterminateBy),
    lost,
    duplicated,
    plainDuplicates,
    offsetsHandedOutTwice,
    ackMismatches,
    reordered,
    staleEmptyReads,
    holes,
    gapOffsetsPassed,
    skipped,
    worstReaderStallMs,
    worstCallMs,
    settleMs: SETTLE_MS,
    tornBatches,
    foreignValues,
    recovered,
    unknownLanded,
    faults: Object.fromEntries([...faults.counts.entries()].sort()),
    worstVisibilityLagMs,
    soloTailEra,
    violations: violations.slice(0, 50),
  };
  await stack.close();
  return report;
};
