import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, finished, runCli, startCli, waitForOutput } from './cli/run-cli';
import { freePort, killLocalServer, type LocalServer, startLocalServer } from './local-server';

/**
 * The `runnel` command as a user runs it: a subprocess of the built bin against a real
 * local server (`npm start`), checked by its stdout, stderr and exit status.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'runnel-cli-data-'));
const configDir = mkdtempSync(join(tmpdir(), 'runnel-cli-config-'));
const DEV_KEY = 'cli-test-dev-key-0123456789abcdef';
const OPERATOR_KEY = 'cli-test-operator-key-0123456789abcdef';
let server: LocalServer | undefined;
let env: Record<string, string>;

const lines = (buffer: Buffer) => buffer.toString('utf8').split('\n').filter(Boolean);
const json = (buffer: Buffer) => JSON.parse(buffer.toString('utf8'));

beforeAll(async () => {
  buildCli();
  const port = await freePort();
  server = await startLocalServer(port, {
    RUNNEL_DATA_DIR: dataDir,
    RUNNEL_DEV_API_KEY: DEV_KEY,
    RUNNEL_OPERATOR_KEY: OPERATOR_KEY,
    RUNNEL_MAINTENANCE_INTERVAL_MS: '0',
  });
  env = { RUNNEL_URL: `http://127.0.0.1:${port}`, RUNNEL_API_KEY: DEV_KEY, RUNNEL_CONFIG_DIR: configDir };
});

afterAll(async () => {
  await killLocalServer(server?.proc);
  for (const dir of [dataDir, configDir]) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('runnel produce and consume', () => {
  it('round-trips 10,000 lines with keys and headers, byte for byte', async () => {
    expect((await runCli(['topic', 'create', 'roundtrip', '-p', '3'], env)).code).toBe(0);
    const input = Array.from(
      { length: 10_000 },
      (_, i) => `key-${i % 97}:value ${i} ✓ "quoted" \\ tab\there: colons: too`,
    );
    const produced = await runCli(
      ['produce', 'roundtrip', '-K', ':', '-H', 'source=cli', '-H', 'trace=a=b'],
      env,
      `${input.join('\n')}\n`,
    );
    expect(produced.stderr).toContain('10000 of 10000 records acknowledged');
    expect(produced.code).toBe(0);

    const consumed = await runCli(['consume', 'roundtrip', '-o', 'beginning', '-e', '-f', '%k:%s\\n'], env);
    expect(consumed.code).toBe(0);
    const output = lines(consumed.stdout);
    expect(output.sort()).toEqual([...input].sort());

    // Same key, same partition (the producer partitions as the server does), headers on every record.
    const detailed = await runCli(['consume', 'roundtrip', '-o', 'beginning', '-e', '-f', '%p %k %h\\n'], env);
    const partitionOfKey = new Map<string, Set<string>>();
    for (const line of lines(detailed.stdout)) {
      const [partition, key, headers] = line.split(' ');
      expect(headers).toBe('source=cli,trace=a=b');
      partitionOfKey.set(key ?? '', (partitionOfKey.get(key ?? '') ?? new Set()).add(partition ?? ''));
    }
    expect(partitionOfKey.size).toBe(97);
    for (const partitions of partitionOfKey.values()) expect(partitions.size).toBe(1);
  });

  it('carries a binary file through --format base64 byte for byte', async () => {
    await runCli(['topic', 'create', 'blobs', '-p', '2'], env);
    const file = randomBytes(300_000);
    // base64 of the file in 76-character lines, as `base64` prints it: each line one record.
    const encoded = (file.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
    const produced = await runCli(['produce', 'blobs', '-p', '1', '--format', 'base64'], env, `${encoded}\n`);
    expect(produced.code).toBe(0);
    const consumed = await runCli(
      ['consume', 'blobs', '-p', '1', '-o', 'beginning', '-e', '-E', 'binary', '-f', '%s'],
      env,
    );
    expect(consumed.code).toBe(0);
    expect(consumed.stdout.equals(file)).toBe(true);

    // And back out as base64 lines, which produce reads again.
    const asBase64 = await runCli(['consume', 'blobs', '-p', '1', '-o', 'beginning', '-e', '-E', 'base64'], env);
    expect(asBase64.stdout.toString()).toBe(`${encoded}\n`);
  });

  it('produces JSON lines and consumes them back as JSON', async () => {
    await runCli(['topic', 'create', 'jsonl'], env);
    const records = [
      { key: 'k1', value: 'v1', headers: [{ key: 'h', value: 'x' }] },
      { key: null, value: '{"nested":true}' },
    ];
    const produced = await runCli(
      ['produce', 'jsonl', '--format', 'json'],
      env,
      records.map((r) => JSON.stringify(r)).join('\n'),
    );
    expect(produced.code).toBe(0);
    const consumed = await runCli(['consume', 'jsonl', '-o', 'beginning', '-e', '--json'], env);
    const parsed = lines(consumed.stdout).map((l) => JSON.parse(l));
    expect(parsed.map((r) => ({ key: r.key, value: r.value, offset: r.offset }))).toEqual([
      { key: 'k1', value: 'v1', offset: 0 },
      { key: null, value: '{"nested":true}', offset: 1 },
    ]);
    expect(parsed[0].headers).toEqual([{ key: 'h', value: 'x' }]);
  });

  it('starts where -o says: -N, an absolute offset, a time, the end', async () => {
    await runCli(['topic', 'create', 'positions'], env);
    await runCli(['produce', 'positions'], env, 'a\nb\nc\nd\ne\n');
    const at = async (offset: string) =>
      lines((await runCli(['consume', 'positions', '-o', offset, '-e', '-f', '%o:%s\\n'], env)).stdout);
    expect(await at('-2')).toEqual(['3:d', '4:e']);
    expect(await at('1')).toEqual(['1:b', '2:c', '3:d', '4:e']);
    expect(await at('end')).toEqual([]);
    expect(await at('-1h')).toHaveLength(5);
    expect(await at(`@${Date.now() + 3_600_000}`)).toEqual([]);
    expect(lines((await runCli(['consume', 'positions', '-o', 'beginning', '-c', '2'], env)).stdout)).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('runnel consume -G', () => {
  it('-e exits 0 at the high watermark in group mode and commits what it printed', async () => {
    await runCli(['topic', 'create', 'grouped', '-p', '3'], env);
    const input = Array.from({ length: 300 }, (_, i) => `k${i}:v${i}`);
    await runCli(['produce', 'grouped', '-K', ':'], env, input.join('\n'));
    const first = await runCli(['consume', 'grouped', '-G', 'g-exit', '-o', 'beginning', '-e', '-f', '%k:%s\\n'], env);
    expect(first.code).toBe(0);
    expect(lines(first.stdout).sort()).toEqual([...input].sort());
    const lag = json((await runCli(['group', 'lag', 'g-exit', '--json'], env)).stdout);
    expect(lag.totalLag).toBe(0);
    expect(
      lag.partitions.map((p: { committedOffset: number }) => p.committedOffset).reduce((a: number, b: number) => a + b),
    ).toBe(300);

    // Nothing new: a second run prints nothing and still exits 0.
    const again = await runCli(['consume', 'grouped', '-G', 'g-exit', '-e'], env);
    expect(again.code).toBe(0);
    expect(again.stdout.length).toBe(0);

    // -c commits exactly what it printed, even in the middle of a batch.
    const some = await runCli(['consume', 'grouped', '-G', 'g-count', '-o', 'beginning', '-c', '7'], env);
    expect(some.code).toBe(0);
    expect(lines(some.stdout)).toHaveLength(7);
    const counted = json((await runCli(['group', 'lag', 'g-count', '--json'], env)).stdout);
    const committedSum = counted.partitions.reduce(
      (sum: number, p: { committedOffset: number | null }) => sum + (p.committedOffset ?? 0),
      0,
    );
    expect(committedSum).toBe(7);
    const rest = await runCli(['consume', 'grouped', '-G', 'g-count', '-o', 'beginning', '-e'], env);
    expect(lines(rest.stdout)).toHaveLength(300 - 7);
    expect([...lines(some.stdout), ...lines(rest.stdout)].sort()).toEqual(input.map((l) => l.split(':')[1]).sort());
  });

  it('two consumers of a group split the partitions and together print each record once; Ctrl-C commits and leaves', async () => {
    await runCli(['topic', 'create', 'shared', '-p', '4'], env);
    const args = ['consume', 'shared', '-G', 'g-split', '-o', 'beginning', '-f', '%p %s\\n'];
    const members = [startCli(args, env), startCli(args, env)];
    const results = members.map(finished);
    // Each consumer reports its assignment on stderr, as kcat does; wait until they hold
    // disjoint halves (the first one has given up what the second now owns).
    // Count printed lines from the start: records may arrive while produce is still running.
    let printed = 0;
    const allPrinted = new Promise<void>((resolve) => {
      for (const member of members) {
        member.stdout?.on('data', (chunk: Buffer) => {
          printed += chunk.toString().split('\n').length - 1;
          if (printed >= 400) resolve();
        });
      }
    });
    const owned = members.map(() => new Set<number>());
    const settled = new Promise<void>((resolve) => {
      members.forEach((member, i) => {
        member.stderr?.on('data', (chunk: Buffer) => {
          for (const match of chunk.toString().matchAll(/% group g-split: (assigned|revoked) shared\[([\d,]*)\]/g)) {
            const partitions = (match[2] ?? '').split(',').filter(Boolean).map(Number);
            for (const p of partitions) match[1] === 'assigned' ? owned[i]?.add(p) : owned[i]?.delete(p);
          }
          const [a, b] = owned as [Set<number>, Set<number>];
          if (a.size > 0 && b.size > 0 && a.size + b.size === 4 && [...a].every((p) => !b.has(p))) resolve();
        });
      });
    });
    await settled;
    const input = Array.from({ length: 400 }, (_, i) => `key${i}:value${i}`);
    expect((await runCli(['produce', 'shared', '-K', ':'], env, input.join('\n'))).code).toBe(0);
    await allPrinted;
    for (const member of members) member.kill('SIGINT');
    const [a, b] = (await Promise.all(results)) as [Awaited<(typeof results)[0]>, Awaited<(typeof results)[0]>];
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const outA = lines(a.stdout);
    const outB = lines(b.stdout);
    expect(outA.length).toBeGreaterThan(0);
    expect(outB.length).toBeGreaterThan(0);
    const partitionsA = new Set(outA.map((l) => l.split(' ')[0]));
    expect(outB.every((l) => !partitionsA.has(l.split(' ')[0]))).toBe(true);
    const values = [...outA, ...outB].map((l) => l.split(' ')[1]);
    expect(values.sort()).toEqual(input.map((l) => l.split(':')[1]).sort());
    // Ctrl-C committed what each printed and left the group.
    const group = json((await runCli(['group', 'describe', 'g-split', '--json'], env)).stdout);
    expect(group.members).toEqual([]);
    expect(group.partitions.every((p: { lag: number }) => p.lag === 0)).toBe(true);
  });
});

describe('runnel group reset', () => {
  // Read back over HTTP, not through the CLI under test.
  const committed = async (group: string) =>
    Object.fromEntries(
      (
        (await (
          await fetch(`${env.RUNNEL_URL}/v1/groups/${group}`, { headers: { Authorization: `Bearer ${DEV_KEY}` } })
        ).json()) as { partitions: { partition: number; committedOffset: number | null }[] }
      ).partitions.map((p: { partition: number; committedOffset: number | null }) => [p.partition, p.committedOffset]),
    );
  const reset = async (...args: string[]) =>
    runCli(['group', 'reset', 'g-reset', '--topic', 'resets', ...args, '--json'], env);

  it('shows old -> new per partition on a dry run, changes nothing, and commits with --execute', async () => {
    await runCli(['topic', 'create', 'resets', '-p', '2'], env);
    await runCli(['produce', 'resets', '-p', '0'], env, 'a\nb\nc\nd\n');
    await runCli(['produce', 'resets', '-p', '1'], env, 'e\nf\n');
    const before = Date.now();
    await runCli(['consume', 'resets', '-G', 'g-reset', '-o', 'beginning', '-e'], env);
    expect(await committed('g-reset')).toEqual({ 0: 4, 1: 2 });

    const dry = await reset('--to-earliest');
    expect(dry.code).toBe(0);
    expect(json(dry.stdout)).toMatchObject({
      executed: false,
      partitions: [
        { partition: 0, current: 4, next: 0 },
        { partition: 1, current: 2, next: 0 },
      ],
    });
    expect(await committed('g-reset')).toEqual({ 0: 4, 1: 2 });
    const table = await runCli(['group', 'reset', 'g-reset', '--topic', 'resets', '--to-earliest'], env);
    expect(table.stdout.toString()).toMatch(/PARTITION\s+OLD\s+NEW/);
    expect(table.stderr).toContain('Dry run');

    const plans: [string[], Record<number, number>][] = [
      [['--to-earliest'], { 0: 0, 1: 0 }],
      [['--to-offset', '3'], { 0: 3, 1: 2 }],
      [['--shift-by', '-2'], { 0: 1, 1: 0 }],
      [['--shift-by', '1'], { 0: 2, 1: 1 }],
      [['--to-latest'], { 0: 4, 1: 2 }],
      [['--to-datetime', new Date(before - 3_600_000).toISOString()], { 0: 0, 1: 0 }],
      [['--to-datetime', new Date(Date.now() + 3_600_000).toISOString()], { 0: 4, 1: 2 }],
    ];
    for (const [args, expected] of plans) {
      const executed = await reset(...args, '--execute');
      expect(executed.code, `${args.join(' ')}: ${executed.stderr}`).toBe(0);
      expect(await committed('g-reset')).toEqual(expected);
    }
  });

  it('is refused while the group has members', async () => {
    await runCli(['topic', 'create', 'busy'], env);
    const member = startCli(['consume', 'busy', '-G', 'g-busy'], env);
    const result = finished(member);
    await waitForOutput(member.stderr, (text) => text.includes('assigned busy[0]'));
    const refused = await runCli(['group', 'reset', 'g-busy', '--topic', 'busy', '--to-earliest', '--execute'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('group_not_empty');
    member.kill('SIGINT');
    expect((await result).code).toBe(0);
    const allowed = await runCli(['group', 'reset', 'g-busy', '--topic', 'busy', '--to-earliest', '--execute'], env);
    expect(allowed.code).toBe(0);
  });

  it('needs exactly one target', async () => {
    const none = await runCli(['group', 'reset', 'g', '--topic', 't'], env);
    expect(none.code).toBe(2);
    const two = await runCli(['group', 'reset', 'g', '--topic', 't', '--to-earliest', '--to-latest'], env);
    expect(two.code).toBe(2);
  });
});

describe('runnel errors and output', () => {
  it.each([
    [['no-such-command']],
    [['topic', 'create']],
    [['topic', 'create', 'bad name!']],
    [['topic', 'create', 'x', '-p', 'zero']],
    [['topic', 'create', 'x', '--retention', 'soon']],
    [['topic', 'alter', 'x']],
    [['topic', 'delete', 'x']],
    [['produce']],
    [['produce', 't', '--format', 'xml']],
    [['produce', 't', '-H', 'novalue']],
    [['consume', 't', '-o', 'yesterday']],
    [['consume', 't', '-f', '%q']],
    [['consume', 't', '-G', 'g', '-p', '0']],
    [['consume', 't', '-G', 'g', '-o', '5']],
    [['group', 'reset', 'g', '--topic', 't', '--to-datetime', 'noon', '--execute']],
    [['key', 'create', 'k', '--allow', 'topic:x=fly']],
    [['completion', 'fish']],
    [['--url', 'ftp://x', 'topic', 'list']],
  ])('%j is bad usage: exit 2 and one line on stderr', async (args) => {
    const result = await runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout.length).toBe(0);
    const errorLines = result.stderr.trim().split('\n');
    expect(errorLines[0]).toMatch(/^error: /);
    expect(errorLines.filter((l) => l.startsWith('error:'))).toHaveLength(1);
  });

  it('prints the problem title, detail and code and exits 1 when the server refuses', async () => {
    const missing = await runCli(['topic', 'describe', 'never-created'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .+ \(topic_not_found, HTTP 404\)\n$/);
    const unauthorized = await runCli(['topic', 'list'], { ...env, RUNNEL_API_KEY: 'wrong-key' });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('unauthorized');
    expect(unauthorized.stderr).not.toContain('wrong-key');
    const asJson = await runCli(['topic', 'describe', 'never-created', '--json'], env);
    expect(JSON.parse(asJson.stderr).error).toMatchObject({ code: 'topic_not_found', status: 404 });
    const produce = await runCli(['produce', 'never-created'], env, 'x\n');
    expect(produce.code).toBe(1);
    expect(produce.stderr).toContain('0 of 1 record acknowledged');
  });

  it('prints JSON that parses with --json', async () => {
    await runCli(['topic', 'create', 'listed', '-p', '2', '--retention', '3d'], env);
    const topics = json((await runCli(['topic', 'list', '--json'], env)).stdout);
    expect(topics.topics).toContainEqual(
      expect.objectContaining({ name: 'listed', partitions: 2, retentionMs: 259_200_000 }),
    );
    const described = json((await runCli(['topic', 'describe', 'listed', '--json'], env)).stdout);
    expect(described.partitionStates).toHaveLength(2);
    const altered = json(
      (await runCli(['topic', 'alter', 'listed', '-p', '3', '--retention', '-1', '--json'], env)).stdout,
    );
    expect(altered).toMatchObject({ partitions: 3, retentionMs: -1 });
    expect(json((await runCli(['group', 'list', '--json'], env)).stdout).groups).toBeInstanceOf(Array);
    const key = json(
      (await runCli(['key', 'create', 'reader', '--allow', 'topic:listed=consume', '--json'], env)).stdout,
    );
    expect(key.apiKey).toEqual(expect.any(String));
    const keys = json((await runCli(['key', 'list', '--json'], env)).stdout).keys;
    expect(keys.map((k: { keyId: string }) => k.keyId)).toContain(key.keyId);
    expect(JSON.stringify(keys)).not.toContain(key.apiKey);
    expect((await runCli(['key', 'revoke', key.keyId], env)).code).toBe(0);
    expect((await runCli(['topic', 'list'], { ...env, RUNNEL_API_KEY: key.apiKey })).code).toBe(1);
    const tenants = json(
      (await runCli(['tenant', 'list', '--json'], { ...env, RUNNEL_OPERATOR_KEY: OPERATOR_KEY })).stdout,
    );
    expect(tenants.tenants.length).toBeGreaterThan(0);
    const deleted = await runCli(['topic', 'delete', 'listed', '--yes', '--json'], env);
    expect(json(deleted.stdout)).toEqual({ deleted: 'listed' });
  });

  it('prints tables without colour off a terminal', async () => {
    const table = await runCli(['topic', 'list'], env);
    expect(table.stdout.toString()).toMatch(/^NAME\s+PARTITIONS\s+RETENTION/);
    expect(table.stdout.toString()).not.toContain('\x1b[');
  });
});

describe('runnel profiles, help and completion', () => {
  it('keeps profiles readable by the user only, never prints keys, and connects through them', async () => {
    const { RUNNEL_API_KEY: _key, RUNNEL_URL: url, ...bare } = env;
    const added = await runCli(['profile', 'add', 'local', '--url', url ?? '', '--api-key', DEV_KEY], bare);
    expect(added.code).toBe(0);
    expect(statSync(join(configDir, 'profiles.json')).mode & 0o777).toBe(0o600);
    const listed = await runCli(['profile', 'list'], bare);
    expect(listed.stdout.toString()).toContain('local');
    expect(listed.stdout.toString() + listed.stderr).not.toContain(DEV_KEY);
    expect((await runCli(['topic', 'list', '--json'], bare)).code).toBe(0);
    expect((await runCli(['--profile', 'nope', 'topic', 'list'], bare)).code).toBe(2);
    await runCli(['profile', 'add', 'elsewhere', '--url', 'http://127.0.0.1:9', '--api-key', 'x'], bare);
    expect((await runCli(['profile', 'use', 'elsewhere'], bare)).code).toBe(0);
    expect((await runCli(['topic', 'list'], bare)).code).toBe(1);
    expect((await runCli(['--profile', 'local', 'topic', 'list'], bare)).code).toBe(0);
  });

  it('has --help with examples', async () => {
    // Every command's examples are checked in-process (cli/src/program.test.ts); here, the real bin.
    const commands = [[], ['consume'], ['group', 'reset']];
    for (const args of commands) {
      const help = await runCli([...args, '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout.toString()).toContain('Usage: runnel');
      expect(help.stdout.toString(), args.join(' ')).toMatch(/Examples?:\n {2}\$ /);
    }
  });

  it('prints bash and zsh completion scripts that know the commands', async () => {
    const bash = await runCli(['completion', 'bash'], env);
    expect(bash.stdout.toString()).toContain('complete -o default -F _runnel runnel');
    expect(bash.stdout.toString()).toContain('"group") words="list ls describe lag reset delete rm');
    const zsh = await runCli(['completion', 'zsh'], env);
    expect(zsh.stdout.toString()).toContain('bashcompinit');
  });
});
