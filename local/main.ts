import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { awsPorts } from '#shared/adapters/aws';
import { createApp, createServices } from '#shared/app/create-app';
import { parseCorsOrigins } from '#shared/app/middleware/cors';
import { DEFAULT_EXACTLY_ONCE_TIMING, SEGMENT_CACHE_BYTES } from '#shared/constants';
import { generateApiKey, hashApiKey, keyIdOf } from '#shared/domain/api-keys';
import { maintenanceOptionsFromEnv } from '#shared/hosts/lambda-config';
import { MaintenanceJob } from '#shared/services/maintenance';
import { answerClientErrors, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './client-errors';
import { startEmulators } from './emulators';

/**
 * `npm start`: the whole service on one machine. DynamoDB and S3 are emulated
 * in-process and persisted under RUNNEL_DATA_DIR, so topics and records survive a
 * restart. Prints the operator key and a ready tenant key.
 */
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const dataDir = resolve(process.env.RUNNEL_DATA_DIR ?? '.runnel');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, not ${process.env.PORT}`);
  process.exit(2);
}
const maintenanceIntervalMs = Number(process.env.RUNNEL_MAINTENANCE_INTERVAL_MS ?? 60_000);
if (!Number.isInteger(maintenanceIntervalMs) || maintenanceIntervalMs < 0) {
  console.error(
    `RUNNEL_MAINTENANCE_INTERVAL_MS must be a whole number of ms (0 = off), not ${process.env.RUNNEL_MAINTENANCE_INTERVAL_MS}`,
  );
  process.exit(2);
}
mkdirSync(dataDir, { recursive: true });

// Keys generated on first start are kept (locally only) so a restart prints the same ones.
const keysFile = resolve(dataDir, 'local-keys.json');
const saved: { operatorKey?: string; devApiKey?: string } = existsSync(keysFile)
  ? JSON.parse(readFileSync(keysFile, 'utf8'))
  : {};
const operatorKey =
  process.env.RUNNEL_OPERATOR_KEY || saved.operatorKey || `rnlop_${randomBytes(32).toString('base64url')}`;
const devApiKey = process.env.RUNNEL_DEV_API_KEY || saved.devApiKey || generateApiKey().apiKey;
writeFileSync(keysFile, JSON.stringify({ operatorKey, devApiKey }, null, 2), { mode: 0o600 });

const emulators = await startEmulators({ dataDir });
// Exactly-once lease timing (docs/exactly-once.md); shorter values make crash tests quick.
const leaseMs = Number(process.env.RUNNEL_EXACTLY_ONCE_LEASE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.leaseMs);
const settleMs = Number(process.env.RUNNEL_EXACTLY_ONCE_SETTLE_MS ?? DEFAULT_EXACTLY_ONCE_TIMING.settleMs);
if (!(settleMs > 0 && leaseMs > settleMs)) {
  console.error('RUNNEL_EXACTLY_ONCE_SETTLE_MS must be positive and below RUNNEL_EXACTLY_ONCE_LEASE_MS');
  process.exit(2);
}
const deps = {
  ...awsPorts(emulators, emulators.storage),
  operatorKeyHash: hashApiKey(operatorKey),
  corsOrigins: parseCorsOrigins(process.env.RUNNEL_CORS_ORIGINS),
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
  exactlyOnce: { timing: { leaseMs, settleMs } },
  clientAddress: (c: Context) => getConnInfo(c).remote.address,
};
const services = createServices(deps);
const app = createApp(deps, services);

// The dev tenant and its key: created once, found again on restart.
if (!(await deps.metadata.getApiKey(keyIdOf(devApiKey)))) {
  await services.tenants.create('dev', { apiKey: devApiKey });
}

// The maintenance job, as the schedule runs it in AWS. s3rver has no lifecycle rules, so
// here the job also deletes objects whose retention class has expired.
const maintenance = new MaintenanceJob(deps, { ...maintenanceOptionsFromEnv(process.env), expireObjects: true });
let maintenanceRun: Promise<unknown> = Promise.resolve();
const maintenanceTimer =
  maintenanceIntervalMs > 0
    ? setInterval(() => {
        maintenanceRun = maintenance.run().catch((error: unknown) => {
          console.error(JSON.stringify({ level: 'error', msg: 'maintenance run failed', error: String(error) }));
        });
      }, maintenanceIntervalMs)
    : undefined;

const server = serve(
  {
    fetch: app.fetch,
    port,
    hostname: host,
    serverOptions: { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS },
  },
  (info) => {
    const base = `http://${host}:${info.port}`;
    console.log(`Runnel is listening on ${base}`);
    console.log(`  data dir:      ${dataDir}`);
    console.log(`  operator key:  ${operatorKey}`);
    console.log(`  dev tenant key: ${devApiKey}`);
    console.log(`Try: curl -s ${base}/v1/topics -H "Authorization: Bearer ${devApiKey}"`);
  },
);
answerClientErrors(server as Server);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  clearInterval(maintenanceTimer);
  await new Promise<void>((done) => server.close(() => done()));
  await maintenanceRun;
  await emulators.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
