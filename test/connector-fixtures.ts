import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalSinkObjectStore } from '#shared/adapters/s3/sink-object-store';
import { LOCAL_DESTINATIONS, type Resolver } from '#shared/domain/connectors/destination';
import type { StoredConnector } from '#shared/ports/connector-store';
import {
  ConnectorWorker,
  type ConnectorWorkerOptions,
  type CrashPoint,
  connectorWorkerDeps,
} from '#shared/services/connectors/worker';
import type { Stack } from './harness';

/** A clock the test moves by hand: backoff, batching and leases never wait on real time. */
export const manualClock = (start = Date.UTC(2026, 10, 30, 12)) => {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
};

/** Never settles: the worker stops there for good, as if killed (nothing after the point runs). */
export const hang = () => new Promise<void>(() => {});

/** A worker on the stack's ports and services, as local mode builds it. */
export const workerFor = (stack: Stack, options: Partial<ConnectorWorkerOptions> = {}) =>
  new ConnectorWorker(
    connectorWorkerDeps(
      stack.deps,
      stack.services,
      new LocalSinkObjectStore(stack.emulators.s3, [stack.emulators.storage.bucket]),
    ),
    { destinations: LOCAL_DESTINATIONS, resolve: async () => ['127.0.0.1'], leaseMs: 30_000, ...options },
  );

/** A crash hook that stops the worker (hangs) the first time it reaches `point`, and tells the test. */
export const crashOnce = (point: CrashPoint, connector: string) => {
  let crashed = false;
  let signal: () => void = () => {};
  const reached = new Promise<void>((resolve) => {
    signal = resolve;
  });
  return {
    reached,
    afterStep: (at: CrashPoint, c: StoredConnector) => {
      if (at !== point || c.name !== connector || crashed) return;
      crashed = true;
      signal();
      return hang();
    },
  };
};

export interface ReceivedRequest {
  at: number;
  headers: IncomingHttpHeaders;
  records: { topic: string; partition: number; offset: number; key: string | null; value: string | null }[];
}

/** An HTTP receiver on 127.0.0.1 whose answers the test scripts; the clock stamps each request. */
export const startReceiver = async (
  answer: (n: number, req: ReceivedRequest) => { status: number; headers?: Record<string, string> },
  clock: () => number,
) => {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const received: ReceivedRequest = { at: clock(), headers: req.headers, records: JSON.parse(body).records };
      requests.push(received);
      const { status, headers } = answer(requests.length, received);
      res.writeHead(status, headers ?? {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** A resolver answering from a table, as DNS would (injected: no test depends on real DNS). */
export const fakeDns =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const addresses = table[host];
    if (!addresses) throw new Error(`ENOTFOUND ${host}`);
    return addresses;
  };
