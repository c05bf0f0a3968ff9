import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../test/local-server';

export const NATS_INSTALL_HINT = 'apt-get install -y nats-server';

/** Debian installs nats-server in /usr/sbin, which is not on every user's PATH. */
export const findNatsServer = (): string | undefined => {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
};

export interface NatsServer {
  url: string;
  version: string;
  stop(): Promise<void>;
}

/** Starts nats-server with JetStream on file storage in a temp dir, on a loopback port. */
export const startNatsServer = async (binary: string): Promise<NatsServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-bench-nats-'));
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!ready) {
    await stop();
    throw new Error(`nats-server did not start: ${log.slice(-500)}`);
  }
  const version = /Version:\s+(\S+)/.exec(log)?.[1] ?? 'unknown';
  return { url: `127.0.0.1:${port}`, version, stop };
};

export interface NatsThroughput {
  serverVersion: string;
  concurrency: number;
  recordsPerRequest: number;
  recordBytes: number;
  records: number;
  publishSeconds: number;
  publishRecordsPerSec: number;
  publishMBps: number;
  consumeSeconds: number;
  consumeRecordsPerSec: number;
  consumeMBps: number;
}

/**
 * The same workload as the Runnel throughput run, on NATS JetStream: per worker,
 * `requestsPerWorker` rounds of `recordsPerRequest` publishes of `recordBytes` bytes to
 * the worker's subject, each round waiting for every publish ack (JetStream has no batch
 * publish: pipelined acked publishes are its equivalent of one produce request); then
 * each worker reads its subject back with an ordered consumer in fetches of 500.
 */
export const measureNatsThroughput = async (
  server: NatsServer,
  options: { concurrency: number; requestsPerWorker: number; recordsPerRequest?: number; recordBytes?: number },
): Promise<NatsThroughput> => {
  const { connect, StorageType } = await import('nats');
  const recordsPerRequest = options.recordsPerRequest ?? 100;
  const recordBytes = options.recordBytes ?? 1024;
  const { concurrency, requestsPerWorker } = options;
  const nc = await connect({ servers: server.url });
  try {
    const stream = `BENCH_C${concurrency}_${Date.now()}`;
    const subject = (worker: number) => `${stream.toLowerCase()}.${worker}`;
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`], storage: StorageType.File });
    const js = nc.jetstream();
    const payload = new Uint8Array(recordBytes).fill(120);

    let start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let i = 0; i < requestsPerWorker; i++) {
          await Promise.all(Array.from({ length: recordsPerRequest }, () => js.publish(subject(worker), payload)));
        }
      }),
    );
    const publishSeconds = (performance.now() - start) / 1000;
    const perWorker = requestsPerWorker * recordsPerRequest;

    let consumedRecords = 0;
    let consumedBytes = 0;
    start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        const consumer = await js.consumers.get(stream, { filterSubjects: subject(worker) });
        let got = 0;
        while (got < perWorker) {
          const batch = await consumer.fetch({ max_messages: Math.min(500, perWorker - got), expires: 5000 });
          let n = 0;
          for await (const message of batch) {
            consumedBytes += message.data.byteLength;
            n += 1;
          }
          if (n === 0) throw new Error(`JetStream returned nothing at ${got} of ${perWorker}`);
          got += n;
        }
        consumedRecords += got;
      }),
    );
    const consumeSeconds = (performance.now() - start) / 1000;
    const records = concurrency * perWorker;
    if (consumedRecords !== records) throw new Error(`consumed ${consumedRecords} of ${records}`);
    await jsm.streams.delete(stream);
    return {
      serverVersion: server.version,
      concurrency,
      recordsPerRequest,
      recordBytes,
      records,
      publishSeconds,
      publishRecordsPerSec: records / publishSeconds,
      publishMBps: (records * recordBytes) / 1e6 / publishSeconds,
      consumeSeconds,
      consumeRecordsPerSec: consumedRecords / consumeSeconds,
      consumeMBps: consumedBytes / 1e6 / consumeSeconds,
    };
  } finally {
    await nc.close();
  }
};
