import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `npm start` as a user runs it: a real process, a real port, data under RUNNEL_DATA_DIR. */
const dataDir = mkdtempSync(join(tmpdir(), 'runnel-local-'));
const DEV_KEY = 'local-mode-test-dev-key-0123456789';
const OPERATOR_KEY = 'local-mode-test-operator-key-0123456789';
let child: ChildProcess | undefined;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const start = async (port: number) => {
  const proc = spawn(join('node_modules', '.bin', 'tsx'), ['local/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      RUNNEL_DATA_DIR: dataDir,
      RUNNEL_DEV_API_KEY: DEV_KEY,
      RUNNEL_OPERATOR_KEY: OPERATOR_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  proc.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!output.includes('Try:')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, output: () => output };
};

const stop = (proc: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('local mode (npm start)', () => {
  it('prints the keys, serves the API, shuts down on SIGTERM and finds everything again after a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const auth = { Authorization: `Bearer ${DEV_KEY}`, 'Content-Type': 'application/json' };

    const first = await start(port);
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
    expect(await stop(first.proc)).toBe(0);

    const second = await start(port);
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
    expect(await stop(second.proc)).toBe(0);
  }, 180_000);
});
