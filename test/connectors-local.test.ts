import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from './connector-fixtures';
import { freePort, killLocalServer, startLocalServer, stopLocalServer } from './local-server';

/*
 * The connector runtime inside `npm start`: a real process with its worker, a receiver
 * on 127.0.0.1. The test waits on events (the receiver's n-th record, the connector's
 * state), never for a fixed time.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'runnel-connectors-local-'));
const DEV_KEY = 'connectors-local-test-dev-key-0123456789';
const env = {
  RUNNEL_DATA_DIR: dataDir,
  RUNNEL_DEV_API_KEY: DEV_KEY,
  RUNNEL_OPERATOR_KEY: 'connectors-local-test-operator-key-0123',
  RUNNEL_CONNECTOR_TICK_MS: '50',
};
let child: ChildProcess | undefined;

afterAll(async () => {
  await killLocalServer(child);
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('connectors in local mode (npm start)', () => {
  it('runs datagen into a topic and an http-sink out of it, and keeps them across a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${DEV_KEY}`, 'Content-Type': 'application/json' };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    let allDelivered: () => void = () => {};
    const delivered = new Promise<void>((resolve) => {
      allDelivered = resolve;
    });
    const seen = new Set<string>();
    const receiver = await startReceiver((_n, req) => {
      for (const r of req.records) seen.add(`${r.partition}:${r.offset}`);
      if (seen.size >= 40) allDelivered();
      return { status: 200 };
    }, Date.now);
    try {
      const server = await startLocalServer(port, env);
      child = server.proc;
      expect((await call('POST', '/v1/topics', { name: 'trades', partitions: 2 })).status).toBe(201);
      expect(
        (
          await call('POST', '/v1/connectors', {
            name: 'trades-gen',
            kind: 'datagen',
            config: { topic: 'trades', template: 'stock-trades', recordsPerSecond: 200, maxRecords: 40 },
          })
        ).status,
      ).toBe(201);
      const sink = await call('POST', '/v1/connectors', {
        name: 'trades-hook',
        kind: 'http-sink',
        config: { topics: ['trades'], url: receiver.url, batchMaxWaitMs: 0, headers: { 'X-Token': 'local-secret' } },
      });
      expect(sink.status, JSON.stringify(sink.body)).toBe(201);
      await delivered;
      expect(seen.size).toBe(40);
      expect(receiver.requests.every((r) => r.headers['x-token'] === 'local-secret')).toBe(true);
      expect(server.output()).not.toContain('local-secret');
      expect(await stopLocalServer(server.proc)).toBe(0);

      const again = await startLocalServer(port, env);
      child = again.proc;
      const listed = await call('GET', '/v1/connectors');
      expect(listed.body.connectors.map((c: { name: string; state: string }) => [c.name, c.state])).toEqual([
        ['trades-gen', 'completed'],
        ['trades-hook', 'running'],
      ]);
      const group = await call('GET', '/v1/groups/connect-trades-hook');
      expect(group.body.partitions.map((p: { lag: number }) => p.lag)).toEqual([0, 0]);
    } finally {
      await receiver.close();
    }
  });
});
