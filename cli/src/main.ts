import { buildProgram, reportError } from './program';

/** `runnel`: parse, run, and turn any failure into its message and exit status. */
// A reader that went away (`runnel … | head`) is not an error: stop writing, as cat does.
// (consume notices through its own writer and commits what was printed before leaving.)
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const main = async (argv: string[]) => {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, argv.includes('--json'));
  }
};

await main(process.argv);
