/**
 * Performance isolation between tenants: `npx tsx bench/noisy-neighbour.ts` (also run by
 * `npm run bench`). A quiet tenant produces one small batch at a time while a noisy
 * tenant, on the same app instance and the same emulated tables, runs one abuse at a
 * time: concurrent describes of a 1,000-partition topic, hundreds of idle long polls,
 * and a flood of requests with random keys from one address. Prints the quiet tenant's
 * produce latency p50/p99 for each, the noisy tenant's own answers, and what one describe
 * costs in DynamoDB calls. Figures only: nothing here asserts a timing.
 */
import { randomBytes } from 'node:crypto';
import { apiClient, OPERATOR_KEY, type Stack, startStack } from '../test/harness';

const PARTITIONS = Number(process.env.PARTITIONS ?? 1000);
const DESCRIBERS = Number(process.env.DESCRIBERS ?? 10);
const POLLS = Number(process.env.POLLS ?? 500);
const WAIT_MS = Number(process.env.WAIT_MS ?? 3000);
const GUESSES = Number(process.env.GUESSES ?? 3000);
const QUIET_PRODUCES = Number(process.env.QUIET_PRODUCES ?? 60);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** The quiet tenant's produce latencies (ms) while `noise` runs; `noise` is told to stop when they are done. */
const quietWhile = async (
  stack: Stack,
  noise: (done: () => boolean) => Promise<string>,
): Promise<{ p50: number; p99: number; errors: number; noisy: string }> => {
  let finished = false;
  const noisy = noise(() => finished);
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < QUIET_PRODUCES; i++) {
    const start = performance.now();
    const res = await stack.api.post('/v1/topics/quiet/records', { records: [{ key: `k${i}`, value: 'hello' }] });
    latencies.push(performance.now() - start);
    if (res.status !== 200) errors++;
  }
  finished = true;
  const summary = await noisy;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, noisy: summary };
};

const line = (name: string, r: { p50: number; p99: number; errors: number; noisy: string }) =>
  console.log(
    `${name.padEnd(34)} quiet produce p50 ${r.p50.toFixed(1).padStart(7)} ms, p99 ${r.p99.toFixed(1).padStart(7)} ms, errors ${r.errors}; noisy: ${r.noisy}`,
  );

const count = (statuses: Map<number, number>, status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
const show = (statuses: Map<number, number>) =>
  [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${n}×${s}`)
    .join(' ');

export const benchNoisyNeighbour = async () => {
  const stack = await startStack({ deps: { clientAddress: (c) => c.req.header('X-Test-Client') } });
  try {
    await stack.api.post('/v1/topics', { name: 'quiet', partitions: 2 });
    const created = await apiClient(stack.app, OPERATOR_KEY).post('/admin/v1/tenants', { name: 'noisy' });
    const noisy = apiClient(stack.app, created.body.apiKey);
    await noisy.post('/v1/topics', { name: 'wide', partitions: PARTITIONS });
    // A few records in some partitions, so describes read real entries.
    for (let i = 0; i < 20; i++) {
      await noisy.post('/v1/topics/wide/records', {
        records: Array.from({ length: 50 }, (_, j) => ({ key: `${i}-${j}`, value: 'x'.repeat(100) })),
      });
    }
    await stack.api.get('/v1/topics');

    line('alone', await quietWhile(stack, async () => ''));

    // One describe alone: its DynamoDB calls and its time.
    stack.calls.reset();
    let start = performance.now();
    const one = await noisy.get('/v1/topics/wide');
    const oneMs = performance.now() - start;
    const dynamo = Object.entries(stack.calls.snapshot())
      .filter(([op]) => op.startsWith('DynamoDB.'))
      .reduce((n, [, c]) => n + c, 0);
    console.log(
      `describe of ${PARTITIONS} partitions alone: ${one.status}, ${oneMs.toFixed(0)} ms, ${dynamo} DynamoDB calls`,
    );

    line(
      `${DESCRIBERS} concurrent describes`,
      await quietWhile(stack, async (done) => {
        const statuses = new Map<number, number>();
        const times: number[] = [];
        await Promise.all(
          Array.from({ length: DESCRIBERS }, async () => {
            while (!done()) {
              const t = performance.now();
              count(statuses, (await noisy.get('/v1/topics/wide')).status);
              times.push(performance.now() - t);
            }
          }),
        );
        times.sort((a, b) => a - b);
        return `${show(statuses)}, describe p50 ${percentile(times, 50).toFixed(0)} ms`;
      }),
    );

    line(
      `${POLLS} idle long polls (${WAIT_MS} ms)`,
      await quietWhile(stack, async () => {
        const statuses = new Map<number, number>();
        let overrun = 0;
        start = performance.now();
        await Promise.all(
          Array.from({ length: POLLS }, async (_, i) => {
            const t = performance.now();
            const res = await noisy.get(
              `/v1/topics/wide/partitions/${(i % (PARTITIONS - 10)) + 10}/records?offset=0&waitMs=${WAIT_MS}`,
            );
            count(statuses, res.status);
            if (res.status === 200) overrun = Math.max(overrun, performance.now() - t - WAIT_MS);
          }),
        );
        return `${show(statuses)}, worst overrun of waitMs ${overrun.toFixed(0)} ms`;
      }),
    );

    line(
      `${GUESSES} random keys, one address`,
      await quietWhile(stack, async () => {
        const statuses = new Map<number, number>();
        let next = 0;
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            while (next++ < GUESSES) {
              const res = await stack.app.request('/v1/topics', {
                headers: {
                  Authorization: `Bearer rnl_${randomBytes(8).toString('hex')}_${randomBytes(16).toString('hex')}`,
                  'X-Test-Client': '198.51.100.7',
                },
              });
              count(statuses, res.status);
            }
          }),
        );
        return show(statuses);
      }),
    );
  } finally {
    await stack.close();
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await benchNoisyNeighbour();
