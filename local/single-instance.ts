import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Two local servers must not share a data dir (the emulated DynamoDB holds an exclusive
 * lock on its files) or a port. These checks let `npm start` say so in one line before
 * it touches anything, instead of failing later deep inside the emulator.
 */

export type DataDirLock = { acquired: true; release(): void } | { acquired: false; holder: number };

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes `<dataDir>/server.pid` for this process. A file left by a process that no longer
 * runs (killed with SIGKILL, a crash) is taken over.
 */
export const acquireDataDirLock = (dataDir: string, pid: number = process.pid): DataDirLock => {
  const file = join(dataDir, 'server.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(pid));
      closeSync(fd);
      return {
        acquired: true,
        release: () => {
          try {
            if (readFileSync(file, 'utf8') === String(pid)) rmSync(file);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
        return { acquired: false, holder };
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not take ${file}`);
};

/** Whether a server could listen on `port` at `host` now. */
export const portIsFree = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
    );
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
