import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killLocalServer, runLocalServerToExit, startLocalServer, stopLocalServer } from './local-server';

/** `npm start` as a user runs it: a real process, a real port, data under RUNNEL_DATA_DIR. */
const dataDir = mkdtempSync(join(tmpdir(), 'runnel-local-'));
const DEV_KEY = 'local-mode-test-dev-key-0123456789';
const OPERATOR_KEY = 'local-mode-test-operator-key-0123456789';
let child: ChildProcess | undefined;

const env = { RUNNEL_DATA_DIR: dataDir, RUNNEL_DEV_API_KEY: DEV_KEY, RUNNEL_OPERATOR_KEY: OPERATOR_KEY };

afterAll(async () => {
  await killLocalServer(child);
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('local mode (npm start)', () => {
  it('prints the keys, serves the API, shuts down on SIGTERM and finds everything again after a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const auth = { Authorization: `Bearer ${DEV_KEY}`, 'Content-Type': 'application/json' };

    const first = await startLocalServer(port, env);
    child = first.proc;
    expect(first.output()).toContain(DEV_KEY);
    expect(first.output()).toContain(OPERATOR_KEY);
    expect(
      (
        await fetch(`${base}/v1/topics`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ name: 'kept', partitions: 2 }),
        })
      ).status,
    ).toBe(201);
    const produced = await fetch(`${base}/v1/topics/kept/records`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        records: [
          { key: 'a', value: 'small' },
          { key: 'a', value: 'y'.repeat(20_000) },
        ],
      }),
    });
    expect(produced.status).toBe(200);
    const { offsets } = (await produced.json()) as { offsets: { partition: number; offset: number }[] };

    // A second server on the same data dir, or on the same port, says so in one line and exits.
    const otherDir = mkdtempSync(join(tmpdir(), 'runnel-local-other-'));
    try {
      const sameDir = await runLocalServerToExit(await freePort(), {
        ...env,
        RUNNEL_DEV_API_KEY: 'another-key-0123456789',
      });
      const samePort = await runLocalServerToExit(port, { ...env, RUNNEL_DATA_DIR: otherDir });
      for (const refused of [sameDir, samePort]) {
        expect(refused.code).toBe(1);
        const lines = refused.output.split('\n').filter((l) => l.startsWith('runnel: '));
        expect(lines, refused.output).toHaveLength(1);
        expect(refused.output).not.toMatch(/\n\s+at /);
      }
      expect(sameDir.output).toContain(`${dataDir} is in use by another Runnel server`);
      expect(sameDir.output).toContain('RUNNEL_DATA_DIR');
      expect(samePort.output).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(samePort.output).toContain('another PORT');
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    // The refused start changed nothing: the first server still answers with its key.
    expect((await fetch(`${base}/v1/topics`, { headers: auth })).status).toBe(200);
    expect(await stopLocalServer(first.proc)).toBe(0);

    const second = await startLocalServer(port, env);
    child = second.proc;
    const partition = offsets[0]?.partition as number;
    const fetched = await fetch(`${base}/v1/topics/kept/partitions/${partition}/records`, { headers: auth });
    expect(fetched.status).toBe(200);
    const body = (await fetched.json()) as { records: { value: string }[]; highWatermark: number };
    expect(body.highWatermark).toBe(2);
    expect(body.records.map((r) => r.value)).toEqual(['small', 'y'.repeat(20_000)]);
    // New appends continue the offsets.
    const more = await fetch(`${base}/v1/topics/kept/records`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ records: [{ key: 'a', value: 'after restart' }] }),
    });
    expect(((await more.json()) as { offsets: { offset: number }[] }).offsets[0]?.offset).toBe(2);
    expect(await stopLocalServer(second.proc)).toBe(0);
  }, 180_000);
});
