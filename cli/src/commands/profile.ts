import type { Command } from 'commander';
import { DEFAULT_URL, type GlobalOptions } from '../connection';
import { UsageError } from '../errors';
import { Output } from '../output';
import { checkProfileName, readProfiles, writeProfiles } from '../profiles';

export const registerProfile = (program: Command) => {
  const profile = program
    .command('profile')
    .description('named connections (URL and keys), kept in your config directory readable by you only')
    .addHelpText(
      'after',
      `
Examples:
  $ runnel profile add prod --url https://api.example.com --api-key "$PROD_KEY"
  $ runnel profile use prod
  $ runnel profile list
  $ runnel profile delete prod
  $ runnel --profile local topic list`,
    );

  profile
    .command('add')
    .description('add or replace a profile from --url, --api-key and --operator-key')
    .argument('<name>', 'profile name', checkProfileName)
    .option('--use', 'also make it the current profile')
    .action((name: string, options: { use?: boolean }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const out = new Output({ json: Boolean(globals.json) });
      const file = readProfiles();
      const url = globals.url ?? DEFAULT_URL;
      if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url "${url}" must be an http:// or https:// URL`);
      file.profiles[name] = {
        url,
        ...(globals.apiKey ? { apiKey: globals.apiKey } : {}),
        ...(globals.operatorKey ? { operatorKey: globals.operatorKey } : {}),
      };
      if (options.use || file.current === undefined) file.current = name;
      const path = writeProfiles(file);
      if (out.json) {
        out.writeJson({ profile: name, url, current: file.current === name });
        return;
      }
      out.note(
        `Saved profile ${name} (${url}) in ${path}${file.current === name ? '; it is the current profile' : ''}`,
      );
    });

  profile
    .command('use')
    .description('make a profile the current one')
    .argument('<name>', 'profile name', checkProfileName)
    .action((name: string, _options: object, command: Command) => {
      const out = new Output({ json: Boolean(command.optsWithGlobals<GlobalOptions>().json) });
      const file = readProfiles();
      if (!file.profiles[name]) throw new UsageError(`no profile "${name}" (see runnel profile list)`);
      file.current = name;
      writeProfiles(file);
      if (out.json) {
        out.writeJson({ current: name });
        return;
      }
      out.note(`Using profile ${name}`);
    });

  profile
    .command('list')
    .alias('ls')
    .description('list profiles (keys are never shown)')
    .action((_options: object, command: Command) => {
      const out = new Output({ json: Boolean(command.optsWithGlobals<GlobalOptions>().json) });
      const file = readProfiles();
      const rows = Object.entries(file.profiles).map(([name, p]) => ({
        name,
        url: p.url,
        current: file.current === name,
        apiKey: Boolean(p.apiKey),
        operatorKey: Boolean(p.operatorKey),
      }));
      out.table(
        rows,
        [
          { header: '', value: (r) => (r.current ? '*' : '') },
          { header: 'NAME', value: (r) => r.name },
          { header: 'URL', value: (r) => r.url },
          { header: 'API KEY', value: (r) => (r.apiKey ? 'set' : '-') },
          { header: 'OPERATOR KEY', value: (r) => (r.operatorKey ? 'set' : '-') },
        ],
        { current: file.current ?? null, profiles: rows },
        '(no profiles: add one with runnel profile add NAME --url URL --api-key KEY)',
      );
    });

  profile
    .command('delete')
    .alias('rm')
    .description('delete a profile')
    .argument('<name>', 'profile name', checkProfileName)
    .action((name: string, _options: object, command: Command) => {
      const out = new Output({ json: Boolean(command.optsWithGlobals<GlobalOptions>().json) });
      const file = readProfiles();
      if (!file.profiles[name]) throw new UsageError(`no profile "${name}" (see runnel profile list)`);
      delete file.profiles[name];
      if (file.current === name) file.current = undefined;
      writeProfiles(file);
      if (out.json) {
        out.writeJson({ deleted: name });
        return;
      }
      out.note(`Deleted profile ${name}`);
    });
};
