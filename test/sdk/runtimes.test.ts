import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sparticuz from '@sparticuz/chromium';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpStack, startHttpStack } from './http-stack';

/**
 * The SDK's built ESM, unchanged, outside Node: in headless Chromium (served from the
 * service's own origin) and under Deno (no Node globals: no Buffer, no process). Each
 * produces through the batching producer and fetches the records back.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = join(root, 'client', 'dist');

let h: HttpStack;
beforeAll(async () => {
  h = await startHttpStack();
  const admin = await fetch(`${h.url}/v1/topics`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'rt', partitions: 2 }),
  });
  expect(admin.status).toBe(201);
});
afterAll(async () => {
  await h?.close();
});

/** What each runtime runs: the same code, given the SDK module, URL and key. */
const scenario = async (sdk: typeof import('@runnel/client'), url: string, apiKey: string, who: string) => {
  const runnel = new sdk.Runnel({ url, apiKey });
  const producer = runnel.producer({ lingerMs: 5 });
  const acks = await Promise.all(
    [1, 2, 3].map((i) =>
      producer.send({
        topic: 'rt',
        key: `${who}-key`,
        value: `${who}-${i}`,
        headers: [{ key: 'h', value: new Uint8Array([1, 2, 255]) }],
      }),
    ),
  );
  await producer.close();
  const first = acks[0] as { partition: number; offset: number };
  const fetched = await runnel.fetch('rt', first.partition, { offset: first.offset, encoding: 'base64' });
  return {
    acks,
    values: fetched.records.slice(0, 3).map((r) => (r.value === null ? null : atob(r.value))),
    header: fetched.records[0]?.headers[0]?.value,
    expectedPartition: sdk.partitionForKey(`${who}-key`, 2),
  };
};

const check = (result: Awaited<ReturnType<typeof scenario>>, who: string) => {
  expect(result.acks).toHaveLength(3);
  const partitions = new Set(result.acks.map((a) => a.partition));
  expect([...partitions]).toEqual([result.expectedPartition]);
  expect(result.acks.map((a) => a.offset - (result.acks[0]?.offset ?? 0))).toEqual([0, 1, 2]);
  expect(result.values).toEqual([`${who}-1`, `${who}-2`, `${who}-3`]);
  expect(result.header).toBe('AQL/'); // base64 of 01 02 ff
};

describe('SDK outside Node', () => {
  it('runs in headless Chromium: produce and fetch', async () => {
    const browser = await chromium.launch({ executablePath: await sparticuz.executablePath(), args: sparticuz.args });
    try {
      const page = await browser.newPage();
      // The SDK's files are served from the service's origin, as a web app bundling it would be.
      await page.route(`${h.url}/__sdk/**`, (route) => {
        const file = new URL(route.request().url()).pathname.replace('/__sdk/', '');
        route.fulfill({ body: readFileSync(join(dist, file)), contentType: 'text/javascript' });
      });
      await page.goto(`${h.url}/healthz`);
      // A string, so the test runner's transform of `import()` does not touch it.
      const result = await page.evaluate(`(async () => {
        const sdk = await import(${JSON.stringify(`${h.url}/__sdk/index.js`)});
        const run = ${scenario.toString()};
        return run(sdk, ${JSON.stringify(h.url)}, ${JSON.stringify(h.stack.apiKey)}, 'browser');
      })()`);
      check(result as Awaited<ReturnType<typeof scenario>>, 'browser');
      expect(await page.evaluate(() => typeof (globalThis as { Buffer?: unknown }).Buffer)).toBe('undefined');
    } finally {
      await browser.close();
    }
  });

  it('runs under Deno: produce and fetch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-deno-'));
    try {
      const script = join(dir, 'main.js');
      writeFileSync(
        script,
        `import * as sdk from ${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)};
const run = ${scenario.toString()};
const [url, apiKey] = Deno.args;
console.log(JSON.stringify(await run(sdk, url, apiKey, 'deno')));
`,
      );
      const out = await new Promise<string>((resolvePromise, reject) =>
        execFile(
          join(root, 'node_modules', '.bin', 'deno'),
          [
            'run',
            '--quiet',
            '--no-prompt',
            '--allow-net=127.0.0.1',
            `--allow-read=${dist}`,
            script,
            h.url,
            h.stack.apiKey,
          ],
          { env: { ...process.env, DENO_DIR: join(dir, 'cache'), NO_COLOR: '1' }, timeout: 50_000 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${error.message}\n${stderr}`)) : resolvePromise(stdout),
        ),
      );
      check(JSON.parse(out), 'deno');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
