import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { StreamFault, StreamFaults } from '#shared/app/streaming/sse';
import { mulberry32 } from '#shared/domain/seeded-random';
import type { Api } from './harness';

/** A deterministic PRNG: the same seed cuts the same events. */
export const seededRandom = mulberry32;

const CUTS: StreamFault[] = ['end', 'cut-before', 'cut-inside', 'cut-after'];

/** Cuts about `rate` of the events at a seeded random point, counting each kind of cut. */
export const randomCuts = (seed: number, rate: number) => {
  const random = seededRandom(seed);
  const counts: Record<string, number> = {};
  let on = true;
  const faults: StreamFaults = {
    onEvent() {
      if (!on || random() >= rate) return 'deliver';
      const fault = CUTS[Math.floor(random() * CUTS.length)] as StreamFault;
      counts[fault] = (counts[fault] ?? 0) + 1;
      return fault;
    },
  };
  const total = () => Object.values(counts).reduce((n, c) => n + c, 0);
  return {
    faults,
    counts,
    total,
    stop: () => {
      on = false;
    },
  };
};

/**
 * The node server reports every stream that ends in an error on stderr; the cuts the
 * fault hook makes on purpose are not worth a stack trace each. Returns the restore.
 */
export const quietStreamFaults = () => {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (args[0] instanceof Error && args[0].message.startsWith('stream fault:')) return;
    original(...args);
  };
  return () => {
    console.error = original;
  };
};

/**
 * The node adapter reads the first few chunks of a body before it writes the head (to
 * give short bodies a Content-Length). A fault hook that cuts a stream within those
 * chunks would then turn into a 500 answer instead of a cut connection, and a browser's
 * EventSource gives up for good on a 500 (whether it happens depends on the machine's
 * load). Declaring event streams chunked makes the adapter write the head at once, so
 * every cut is a cut connection, as on a real network.
 */
const chunkedStreams =
  (fetch: (req: Request) => Response | Promise<Response>) =>
  async (req: Request): Promise<Response> => {
    const res = await fetch(req);
    if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
    const headers = new Headers(res.headers);
    headers.set('transfer-encoding', 'chunked');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };

/** The app on a real HTTP server (node), on a free port. */
export const listen = async (fetch: (req: Request) => Response | Promise<Response>, atPort = 0) => {
  let server: ServerType | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: chunkedStreams(fetch), port: atPort, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
  const s = server as ServerType;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Streams never end by themselves: cut them so close() can finish.
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        s.close(() => resolve());
      }),
  };
};

/**
 * Produces `total` records in batches to random partitions (seeded), one request at a
 * time; resolves with the high watermark each partition ends at and every value sent.
 */
export const produceAll = async (api: Api, topic: string, partitions: number, total: number, seed: number) => {
  const random = seededRandom(seed);
  const ends = new Array<number>(partitions).fill(0);
  const values = new Map<string, { partition: number; offset: number }>();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(total - sent, 1 + Math.floor(random() * 160));
    const records = Array.from({ length: n }, (_, i) => ({
      value: `v-${sent + i}`,
      partition: Math.floor(random() * partitions),
    }));
    const res = await api.post(`/v1/topics/${topic}/records`, { records });
    if (res.status !== 200) throw new Error(`produce failed: ${res.status} ${JSON.stringify(res.body)}`);
    res.body.offsets.forEach((o: { partition: number; offset: number }, i: number) => {
      values.set((records[i] as { value: string }).value, o);
      ends[o.partition] = Math.max(ends[o.partition] as number, o.offset + 1);
    });
    sent += n;
  }
  return { ends, values };
};

export interface Received {
  partition: number;
  offset: number;
  value: string | null;
}

/** The checks of exactly once: every record, each once, in offset order per partition. */
export const exactlyOnceViolations = (
  received: readonly Received[],
  produced: Map<string, { partition: number; offset: number }>,
  partitions: number,
) => {
  const violations: string[] = [];
  const perPartition = Array.from({ length: partitions }, () => [] as Received[]);
  for (const r of received) perPartition[r.partition]?.push(r);
  perPartition.forEach((list, p) => {
    list.forEach((r, i) => {
      if (r.offset !== i) violations.push(`partition ${p}: position ${i} holds offset ${r.offset}`);
    });
  });
  const seen = new Set<string>();
  for (const r of received) {
    const where = produced.get(r.value ?? '');
    if (!where || where.partition !== r.partition || where.offset !== r.offset) {
      violations.push(`unexpected ${r.value} at ${r.partition}:${r.offset}`);
    }
    if (seen.has(r.value ?? '')) violations.push(`repeated ${r.value}`);
    seen.add(r.value ?? '');
  }
  if (seen.size !== produced.size) violations.push(`received ${seen.size} distinct records of ${produced.size}`);
  return violations.slice(0, 20);
};
