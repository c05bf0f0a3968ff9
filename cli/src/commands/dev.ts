import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { nonNegativeInt } from '../arguments';
import { checkoutRoot } from '../connection';
import { CommandError } from '../errors';

export const registerDev = (program: Command) => {
  program
    .command('dev')
    .description('run the service locally, as `npm start` does (storage emulated, data kept in .runnel/)')
    .option('--port <port>', 'port to listen on (default $PORT or 8080)', nonNegativeInt)
    .option('--data-dir <dir>', 'where data and the local keys are kept (default $RUNNEL_DATA_DIR or .runnel)')
    .addHelpText(
      'after',
      `
The CLI finds the local dev key by itself (in .runnel/local-keys.json).

Examples:
  $ runnel dev
  $ runnel dev --port 9090 --data-dir /tmp/runnel
  $ runnel topic create orders -p 3            # in another terminal
  $ seq 1 10 | runnel produce orders
  $ runnel consume orders -o beginning -e`,
    )
    .action(async (options: { port?: number; dataDir?: string }) => {
      const root = checkoutRoot();
      if (!root)
        throw new CommandError(
          'runnel dev runs the service from a Runnel checkout; this runnel was installed without one',
        );
      const env = {
        ...process.env,
        ...(options.port === undefined ? {} : { PORT: String(options.port) }),
        ...(options.dataDir === undefined ? {} : { RUNNEL_DATA_DIR: resolve(options.dataDir) }),
      };
      // The same command as `npm start`, from the checkout, so `.runnel/` is where npm start keeps it.
      const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['local/main.ts'], {
        cwd: root,
        env,
        stdio: 'inherit',
      });
      // Ctrl-C reaches the server through the terminal's process group; a plain kill is passed on.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          if (child.exitCode === null) child.kill(signal);
        });
      }
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
      });
      process.exitCode = code;
    });
};
