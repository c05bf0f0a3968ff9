import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
export const CLI = join(root, 'cli', 'bin', 'runnel.js');

/** Builds the bundle the `runnel` bin loads (what `npm ci` does through the workspace's prepare). */
export const buildCli = () => execFileSync(process.execPath, [join(root, 'cli', 'build.mjs')], { stdio: 'inherit' });

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `runnel ARGS` to completion, stdin from `input`. */
export const runCli = (args: string[], env: Record<string, string>, input?: Buffer | string): Promise<CliResult> => {
  const child = startCli(args, env);
  child.stdin?.end(input ?? '');
  return finished(child);
};

/** Starts `runnel ARGS`; the caller reads its streams and ends it. */
export const startCli = (args: string[], env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });

export const finished = (child: ChildProcess): Promise<CliResult> => {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
  });
};

/** Resolves once `predicate` holds for the text a stream has produced so far (an event, not a sleep). */
export const waitForOutput = (
  stream: NodeJS.ReadableStream | null | undefined,
  predicate: (text: string) => boolean,
): Promise<string> =>
  new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stream'));
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (predicate(text)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before the expected output:\n${text}`)));
  });
