import { buildProgram, reportError } from './program';

/** `runnel`: parse, run, and turn any failure into its message and exit status. */
const main = async (argv: string[]) => {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, argv.includes('--json'));
  }
};

await main(process.argv);
