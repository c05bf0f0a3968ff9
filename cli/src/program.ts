import type { EventEmitter } from 'node:events';
import { RunnelError } from '@runnel/client';
import { Command, CommanderError, Option } from 'commander';
import { registerConnector } from './commands/connector';
import { registerConsume } from './commands/consume';
import { registerDev } from './commands/dev';
import { registerGroup } from './commands/group';
import { registerKey, registerToken } from './commands/key';
import { registerProduce } from './commands/produce';
import { registerProfile } from './commands/profile';
import { registerTenant } from './commands/tenant';
import { registerTopic } from './commands/topic';
import { registerCompletion } from './completion';
import { CommandError, EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from './errors';

declare const RUNNEL_CLI_VERSION: string | undefined;

export const buildProgram = (): Command => {
  const program = new Command('runnel')
    .description("Runnel's command line: topics, produce, consume, consumer groups, keys")
    .version(typeof RUNNEL_CLI_VERSION === 'string' ? RUNNEL_CLI_VERSION : '0.0.0-dev', '-V, --version')
    .addOption(new Option('--url <url>', 'service URL (default http://127.0.0.1:8080)').env('RUNNEL_URL'))
    .addOption(new Option('--api-key <key>', 'tenant API key (default: the local dev key)').env('RUNNEL_API_KEY'))
    .addOption(new Option('--operator-key <key>', 'operator key, for runnel tenant').env('RUNNEL_OPERATOR_KEY'))
    .addOption(new Option('--profile <name>', 'use a saved profile (runnel profile add)').env('RUNNEL_PROFILE'))
    .option('--json', 'print JSON for scripts instead of tables')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      'after',
      `
Connection: flags, then RUNNEL_URL / RUNNEL_API_KEY, then the profile, then a local
server's dev key (.runnel/local-keys.json). The key is never printed.
Exit status: 0 ok, 1 the operation failed, 2 bad usage.

Examples:
  $ runnel dev                                   # start the local service
  $ runnel topic create orders -p 3
  $ seq 1 100 | runnel produce orders
  $ runnel consume orders -o beginning -e -f '%p:%o %s\\n'
  $ runnel consume orders -G billing -o beginning
  $ runnel group lag billing`,
    );
  registerTopic(program);
  registerProduce(program);
  registerConsume(program);
  registerGroup(program);
  registerKey(program);
  registerToken(program);
  registerConnector(program);
  registerTenant(program);
  registerProfile(program);
  registerDev(program);
  registerCompletion(program);
  inheritExamples(program);
  return program;
};

/** The text a command adds after its help (its examples), captured instead of printed. */
const afterHelpText = (command: Command): string => {
  let text = '';
  // commander's Command is an EventEmitter at run time; its typings leave that out.
  (command as unknown as EventEmitter).emit('afterHelp', {
    error: false,
    command,
    write: (chunk: string) => (text += chunk),
  });
  return text;
};

/**
 * Every command's --help ends with examples: a subcommand without its own shows the
 * examples of its parent that use it (`runnel topic list` shows `$ runnel topic list`).
 */
const inheritExamples = (command: Command, path: string[] = []) => {
  for (const sub of command.commands) {
    const subPath = [...path, sub.name()];
    if (sub.commands.length === 0 && (sub as unknown as EventEmitter).listenerCount('afterHelp') === 0) {
      const names = [sub.name(), ...sub.aliases()];
      const examples = afterHelpText(command)
        .split('\n')
        .filter((line) => names.some((name) => line.includes(`$ runnel ${[...path, name].join(' ')}`)));
      if (examples.length > 0)
        sub.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.join('\n')}`);
    }
    inheritExamples(sub, subPath);
  }
};

/** Prints an error the way a person and a script both want it; returns the exit code. */
export const reportError = (error: unknown, json: boolean): number => {
  const write = (line: string) => process.stderr.write(`${line}\n`);
  if (error instanceof CommanderError) {
    // commander already printed its one-line message (or the help / version).
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof UsageError || (error instanceof TypeError && error.message.startsWith('@runnel/client:'))) {
    if (json) write(JSON.stringify({ error: { code: 'usage', detail: error.message } }));
    else write(`error: ${error.message.replace(/^@runnel\/client: /, '')}`);
    return EXIT_USAGE;
  }
  if (error instanceof RunnelError) {
    if (json) {
      write(
        JSON.stringify({ error: { ...error.problem, code: error.code, status: error.status, detail: error.detail } }),
      );
    } else {
      const title = error.title !== error.code ? `${error.title}: ` : '';
      write(`error: ${title}${error.detail} (${error.code}${error.status ? `, HTTP ${error.status}` : ''})`);
    }
    return EXIT_ERROR;
  }
  if (error instanceof CommandError) {
    if (json) write(JSON.stringify({ error: { code: error.code ?? 'error', detail: error.message } }));
    else write(`error: ${error.message}${error.code ? ` (${error.code})` : ''}`);
    return EXIT_ERROR;
  }
  write(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT_ERROR;
};
