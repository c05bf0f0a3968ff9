import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** `npm start` as a user runs it, for the suites that need a real process: a free port, a data dir, known keys. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });

export interface LocalServer {
  proc: ChildProcess;
  output(): string;
}

export const startLocalServer = async (port: number, env: Record<string, string>): Promise<LocalServer> => {
  // One process, with tsx as a loader: the `tsx` command would run the server in a child and
  // relay signals to it, and it SIGKILLs that child when it does not confirm a SIGTERM within
  // 30 ms, which a loaded machine misses (exit 143 instead of a clean shutdown).
  const proc = spawn(process.execPath, ['--import', 'tsx', join('local', 'main.ts')], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a SIGKILL reaches anything it started.
    detached: true,
  });
  let output = '';
  // Ready when the banner's last line ("Try:", after the keys) is out; the test's timeout bounds a hang.
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Try:')) resolve();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`server exited (${code}) before it started:\n${output}`)));
  });
  return { proc, output: () => output };
};

/** SIGTERM, as a service manager stops it; resolves with the exit code. */
export const stopLocalServer = (proc: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    proc.once('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });

/** SIGKILL to the whole process group: a crash, with no chance to clean up. */
export const killLocalServer = async (proc: ChildProcess | undefined) => {
  if (proc?.pid === undefined || proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  process.kill(-proc.pid, 'SIGKILL');
  await exited;
};

/** Starts `npm start` expecting it to refuse to start; resolves with its exit code and output. */
export const runLocalServerToExit = (port: number, env: Record<string, string>) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const proc = spawn(join('node_modules', '.bin', 'tsx'), ['local/main.ts'], {
      env: { ...process.env, PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    proc.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    proc.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    proc.on('close', (code) => resolve({ code, output }));
  });
