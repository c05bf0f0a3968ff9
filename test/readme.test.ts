import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killLocalServer, type LocalServer, startLocalServer } from './local-server';

/**
 * The README, run as a new user runs it: every ```sh block, top to bottom, against a real
 * `npm start` server, from a directory that holds only the server's data dir (as the
 * project directory holds `.runnel`). Each `##` section runs in a fresh shell with
 * `set -euo pipefail`, so a section that uses a variable it does not set fails. A comment
 * `# → text` after a command is an output the block must print (`…` stands for anything
 * on the line, such as ids and timestamps), in that order. A block preceded by
 * `<!-- readme-test: skip: reason -->` is not run (long-running, two terminals, AWS).
 */

interface Block {
  section: string;
  line: number;
  code: string;
  expected: string[];
  skip?: string;
}

const SKIP = /^<!-- readme-test: skip: (.+) -->$/;
const EXPECTED = /^\s*# → (.*)$/;

const readmeBlocks = (markdown: string): Block[] => {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('## ')) section = line.slice(3);
    if (line.trim() !== '```sh') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] as string).trim() !== '```'; i++) body.push(lines[i] as string);
    let before = start - 1;
    while (before >= 0 && (lines[before] as string).trim() === '') before--;
    const skip = SKIP.exec((lines[before] ?? '').trim())?.[1];
    blocks.push({
      section,
      line: start + 1,
      code: body.join('\n'),
      expected: body.flatMap((l) => EXPECTED.exec(l)?.[1] ?? []),
      ...(skip ? { skip } : {}),
    });
  }
  return blocks;
};

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Each expected line, in order, somewhere in the output; `…` matches any run of characters within a line. */
const missingOutputs = (output: string, expected: readonly string[]): string[] => {
  const missing: string[] = [];
  let from = 0;
  for (const e of expected) {
    const re = new RegExp(e.split('…').map(escapeRegExp).join('[^\\n]*?'), 'g');
    re.lastIndex = from;
    const match = re.exec(output);
    if (!match) missing.push(e);
    else from = match.index + match[0].length;
  }
  return missing;
};

const runShell = (script: string, cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], {
      cwd,
      // A fresh environment: nothing set by an earlier section, or by the test runner.
      env: { PATH: process.env.PATH ?? '', HOME: cwd, TMPDIR: join(cwd, 'tmp'), LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = readmeBlocks(README);
const runnable = blocks.filter((b) => !b.skip);
const sections = [...new Set(runnable.map((b) => b.section))];

let workDir: string;
let server: LocalServer | undefined;
let port: number;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'runnel-readme-'));
  mkdirSync(join(workDir, 'tmp'));
  port = await freePort();
  // npm start's stack, with the data dir where the README expects it; maintenance off so
  // the documented segment counts stay put.
  server = await startLocalServer(port, {
    RUNNEL_DATA_DIR: join(workDir, '.runnel'),
    RUNNEL_MAINTENANCE_INTERVAL_MS: '0',
  });
}, 90_000);

afterAll(async () => {
  await killLocalServer(server?.proc);
  if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('README', () => {
  it('has shell blocks to run, and a reason for every one it skips', () => {
    expect(runnable.length).toBeGreaterThan(5);
    expect(runnable.flatMap((b) => b.expected).length).toBeGreaterThan(20);
    for (const b of blocks.filter((b) => b.skip)) expect(b.skip?.length).toBeGreaterThan(10);
    console.log(
      `README shell blocks: ${runnable.length} run of ${blocks.length}; skipped: ${blocks
        .filter((b) => b.skip)
        .map((b) => `line ${b.line} (${b.skip})`)
        .join('; ')}`,
    );
  });

  // Sections run in README order, each in its own shell: later ones build on earlier topics.
  it.each(sections)('runs as written: %s', async (section) => {
    const own = runnable.filter((b) => b.section === section);
    const marker = (i: number) => `@@readme-block-${i}@@`;
    const script = [
      'set -euo pipefail',
      ...own.flatMap((b, i) => [
        `printf '\\n${marker(i)}\\n'`,
        b.code.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`),
      ]),
      `printf '\\n${marker(own.length)}\\n'`,
    ].join('\n');
    const { code, stdout, stderr } = await runShell(script, workDir);
    const problems: string[] = [];
    own.forEach((b, i) => {
      const start = stdout.indexOf(marker(i));
      const end = stdout.indexOf(marker(i + 1));
      if (start < 0 || end < 0) {
        if (start >= 0) problems.push(`README.md:${b.line}: the block failed (exit ${code})`);
        return;
      }
      const output = stdout.slice(start + marker(i).length, end);
      for (const m of missingOutputs(output, b.expected))
        problems.push(`README.md:${b.line}: no output matches "${m}"`);
    });
    expect(problems, `${problems.join('\n')}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`).toEqual([]);
    expect(code).toBe(0);
    // Nothing written into the project directory: only the server's data dir and the temp dir are there.
    expect(readdirSync(workDir).sort()).toEqual(['.runnel', 'tmp']);
  });
});
