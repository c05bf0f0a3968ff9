import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { awsPorts } from '#shared/adapters/aws';
import { LocalSinkObjectStore } from '#shared/adapters/s3/sink-object-store';
import { createApp, createServices } from '#shared/app/create-app';
import { SEGMENT_CACHE_BYTES } from '#shared/constants';
import { generateApiKey, hashApiKey, keyIdOf } from '#shared/domain/api-keys';
import { ConfigError, type LocalConfig, localConfig } from '#shared/hosts/config';
import { systemResolver } from '#shared/services/connectors/http-delivery';
import { ConnectorWorker, connectorWorkerDeps } from '#shared/services/connectors/worker';
import { MaintenanceJob } from '#shared/services/maintenance';
import { answerClientErrors, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './client-errors';
import { startEmulators } from './emulators';
import { acquireDataDirLock, portIsFree } from './single-instance';

/**
 * `npm start`: the whole service on one machine. DynamoDB and S3 are emulated
 * in-process and persisted under RUNNEL_DATA_DIR, so topics and records survive a
 * restart. Prints the operator key and a ready tenant key.
 */

/** A one-line reason not to start, and what to do about it; never a stack trace. */
function fail(message: string): never {
  console.error(`runnel: ${message}`);
  process.exit(1);
}

const readConfig = (): LocalConfig => {
  try {
    return localConfig(process.env);
  } catch (error) {
    return fail(error instanceof ConfigError ? error.message : String(error));
  }
};
const config = readConfig();
const { port, host } = config;
const dataDir = resolve(config.dataDir);
mkdirSync(dataDir, { recursive: true });

// One server per data dir: the emulated DynamoDB keeps an exclusive lock on its files.
const lock = acquireDataDirLock(dataDir);
if (!lock.acquired) {
  fail(
    `${dataDir} is in use by another Runnel server (pid ${lock.holder}). Stop that one (Ctrl-C in its terminal), ` +
      'or start this one with another RUNNEL_DATA_DIR (and PORT).',
  );
}
const portInUse = `port ${port} on ${host} is in use (another Runnel server?). Stop it, or start this one with another PORT.`;
if (!(await portIsFree(port, host))) {
  lock.release();
  fail(portInUse);
}

// Keys generated on first start are kept (locally only) so a restart prints the same ones.
const keysFile = resolve(dataDir, 'local-keys.json');
const saved: { operatorKey?: string; devApiKey?: string } = existsSync(keysFile)
  ? JSON.parse(readFileSync(keysFile, 'utf8'))
  : {};
const operatorKey = config.operatorKey || saved.operatorKey || `rnlop_${randomBytes(32).toString('base64url')}`;
const devApiKey = config.devApiKey || saved.devApiKey || generateApiKey().apiKey;
writeFileSync(keysFile, JSON.stringify({ operatorKey, devApiKey }, null, 2), { mode: 0o600 });

const emulators = await startEmulators({ dataDir });
const deps = {
  ...awsPorts(emulators, emulators.storage),
  operatorKeyHash: hashApiKey(operatorKey),
  corsOrigins: config.corsOrigins,
  segmentCacheBytes: SEGMENT_CACHE_BYTES,
  exactlyOnce: { timing: config.exactlyOnceTiming },
  ...(config.streamMaxDurationMs === undefined ? {} : { streams: { maxDurationMs: config.streamMaxDurationMs } }),
  clientAddress: (c: Context) => getConnInfo(c).remote.address,
  // Local mode: http-sinks may reach this machine, s3-sinks write into the local S3 emulator.
  connectorPolicy: {
    destinations: config.connectorDestinations,
    requireRoleArn: false,
    reservedBuckets: [emulators.storage.bucket],
  },
  // The web console's build (npm ci, npm start and npm test build it).
  console: { dir: fileURLToPath(new URL('../console/dist', import.meta.url)) },
};
const services = createServices(deps);
const app = createApp(deps, services);

// The dev tenant and its key: created once, found again on restart.
if (!(await deps.metadata.getApiKey(keyIdOf(devApiKey)))) {
  await services.tenants.create('dev', { apiKey: devApiKey });
}

// The maintenance job, as the schedule runs it in AWS. s3rver has no lifecycle rules, so
// here the job also deletes objects whose retention class has expired.
const maintenance = new MaintenanceJob(deps, { ...config.maintenance, expireObjects: true });
let maintenanceRun: Promise<unknown> = Promise.resolve();
const maintenanceTimer =
  config.maintenanceIntervalMs > 0
    ? setInterval(() => {
        maintenanceRun = maintenance.run().catch((error: unknown) => {
          console.error(JSON.stringify({ level: 'error', msg: 'maintenance run failed', error: String(error) }));
        });
      }, config.maintenanceIntervalMs)
    : undefined;

// The connector runtime, as the scheduled worker runs it in AWS. Its lease owner id is
// fixed, so after a crash the restarted server takes its connectors back at once.
const connectorWorker = new ConnectorWorker(
  connectorWorkerDeps(deps, services, new LocalSinkObjectStore(emulators.s3, [emulators.storage.bucket])),
  {
    owner: 'local',
    destinations: config.connectorDestinations,
    resolve: systemResolver,
    log: (entry) => console.error(JSON.stringify(entry)),
  },
);
let connectorsStopped = false;
let connectorRun: Promise<unknown> = Promise.resolve();
let connectorTimer: NodeJS.Timeout | undefined;
const connectorPass = () => {
  connectorRun = connectorWorker
    .runOnce()
    .catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', msg: 'connector pass failed', error: String(error) }));
    })
    .finally(() => {
      if (!connectorsStopped) connectorTimer = setTimeout(connectorPass, config.connectorTickMs);
    });
};
if (config.connectorTickMs > 0) connectorTimer = setTimeout(connectorPass, config.connectorTickMs);

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
    console.log(`  web console:   ${base}/console`);
    console.log(`Try: curl -s ${base}/v1/topics -H "Authorization: Bearer ${devApiKey}"`);
  },
);
answerClientErrors(server as Server);

// Lost the port to another process since the check above.
server.once('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EADDRINUSE') throw error;
  lock.release();
  fail(portInUse);
});

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  clearInterval(maintenanceTimer);
  connectorsStopped = true;
  clearTimeout(connectorTimer);
  await new Promise<void>((done) => server.close(() => done()));
  await maintenanceRun;
  await connectorRun;
  await connectorWorker.stop();
  await emulators.close();
  lock.release();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
