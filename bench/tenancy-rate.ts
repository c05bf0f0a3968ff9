/**
 * Rate-limit accuracy across function instances, and its DynamoDB cost.
 * `npx tsx bench/tenancy-rate.ts` — several app instances (each with its own caches, like
 * warm Lambdas) share one emulated DynamoDB; concurrent producers of one tenant push far
 * over its produce quota for a few seconds. Prints admitted bytes per second against the
 * limit, throttled requests, records wrongly written, and DynamoDB calls per request.
 */
import { createApp, createServices } from '#shared/app/create-app';
import { apiClient, startStack, storedRecords } from '../test/harness';
import { isUsageCall } from '../test/tenant-state';

const INSTANCES = Number(process.env.INSTANCES ?? 4);
const PRODUCERS = Number(process.env.PRODUCERS ?? 16);
const SECONDS = Number(process.env.SECONDS ?? 4);
const LIMIT = Number(process.env.LIMIT ?? 4096);
const RECORD_BYTES = Number(process.env.RECORD_BYTES ?? 1000);

/** Calls on the tenant's usage shards, by operation (the quota's own cost). */
const usageCalls = new Map<string, number>();
const stack = await startStack({
  tenant: { name: 'bench', quotas: { produceBytesPerSec: LIMIT } },
  attach: ({ dynamodb }) => {
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        if (isUsageCall(args.input as Record<string, unknown>)) {
          const operation = String(context.commandName).replace(/Command$/, '');
          usageCalls.set(operation, (usageCalls.get(operation) ?? 0) + 1);
        }
        return next(args);
      },
      { step: 'initialize', name: 'benchUsageCalls' },
    );
  },
});
const { calls } = stack;
// Instances beyond the first share the tables but each has its own caches, like warm Lambdas.
const apis = [
  stack.api,
  ...Array.from({ length: INSTANCES - 1 }, () =>
    apiClient(createApp(stack.deps, createServices(stack.deps)), stack.apiKey),
  ),
];
const api0 = stack.api;

await api0.post('/v1/topics', { name: 'bench', partitions: 4 });
// Warm every instance's key cache.
for (const api of apis) await api.get('/v1/topics');

calls.reset();
const start = Date.now();
const end = start + SECONDS * 1000;
const admittedPerSecond = new Map<number, number>();
let admitted = 0;
let throttled = 0;
let other = 0;
let acknowledgedRecords = 0;
await Promise.all(
  Array.from({ length: PRODUCERS }, async (_, p) => {
    const api = apis[p % INSTANCES] as typeof api0;
    for (let i = 0; Date.now() < end; i++) {
      const res = await api.post('/v1/topics/bench/records', {
        records: [{ key: `${p}-${i}`, value: 'x'.repeat(RECORD_BYTES - `${p}-${i}`.length) }],
      });
      if (res.status === 200) {
        admitted++;
        acknowledgedRecords += res.body.offsets.length;
        const second = Math.floor(Date.now() / 1000);
        admittedPerSecond.set(second, (admittedPerSecond.get(second) ?? 0) + RECORD_BYTES);
      } else if (res.status === 429) throttled++;
      else other++;
    }
  }),
);
const elapsed = (Date.now() - start) / 1000;
// The stack counts S3 calls too; small produces are inline and make none.
const snapshot = Object.fromEntries(Object.entries(calls.snapshot()).filter(([op]) => op.startsWith('DynamoDB.')));
const requests = admitted + throttled + other;
const stored = await storedRecords(stack, stack.tenantId, 'bench');

const full = [...admittedPerSecond.entries()].sort(([a], [b]) => a - b).slice(1, -1);
console.log(
  `instances ${INSTANCES}, producers ${PRODUCERS}, ${SECONDS} s, limit ${LIMIT} B/s, ${RECORD_BYTES} B per request`,
);
console.log(`requests ${requests}: admitted ${admitted}, throttled ${throttled}, other ${other}`);
console.log(
  `elapsed ${elapsed.toFixed(1)} s; offered ${Math.round((requests * RECORD_BYTES) / elapsed)} B/s ` +
    `(${((requests * RECORD_BYTES) / elapsed / LIMIT).toFixed(1)}x the limit)`,
);
console.log(
  `admitted per full second (B, by answer time): ${full.map(([, b]) => b).join(', ')}; ` +
    `max ${Math.max(...full.map(([, b]) => b))} = ${(Math.max(...full.map(([, b]) => b)) / LIMIT).toFixed(2)}x the limit`,
);
// A window admits while its total is under the limit, so whole requests overshoot it by < 1 request.
const perWindow = Math.ceil(LIMIT / RECORD_BYTES) * RECORD_BYTES;
console.log(
  `admitted overall ${Math.round((admitted * RECORD_BYTES) / elapsed)} B/s = ` +
    `${((admitted * RECORD_BYTES) / elapsed / LIMIT).toFixed(2)}x the limit ` +
    `(the rule's own bound with ${RECORD_BYTES} B requests: ${(perWindow / LIMIT).toFixed(2)}x per whole second)`,
);
console.log(
  `records acknowledged ${acknowledgedRecords}, stored ${stored}, wrongly written ${stored - acknowledgedRecords}`,
);
console.log(`DynamoDB calls during the run: ${JSON.stringify(snapshot)}`);
// The usage shards take one UpdateItem (two for a shard's first of a second) per admitted
// request and a Query per instance every 200 ms; auth is warm (no call).
const quotaUpdates = usageCalls.get('UpdateItem') ?? 0;
const quotaReads = usageCalls.get('Query') ?? 0;
console.log(
  `quota calls per request: ${((quotaUpdates + quotaReads) / requests).toFixed(2)} ` +
    `(${(quotaUpdates / requests).toFixed(2)} UpdateItem + ${(quotaReads / requests).toFixed(2)} Query)`,
);

await stack.close();
