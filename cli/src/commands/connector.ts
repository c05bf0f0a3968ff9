import { readFileSync } from 'node:fs';
import type { Connector } from '@runnel/client';
import { type Command, InvalidArgumentError } from 'commander';
import { collect, resourceName } from '../arguments';
import { contextOf } from '../context';
import { UsageError } from '../errors';

/** `--config '{"topic":"orders"}'` or `--config @file.json`. */
const parseConfig = (value: string): Record<string, unknown> => {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}.`);
    }
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected a JSON object or @file.json.');
};

/** `--set key=value` entries on top of `--config`; values that parse as JSON (numbers, arrays) are taken as JSON. */
const applySets = (config: Record<string, unknown>, sets: string[]) => {
  const out = { ...config };
  for (const entry of sets) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new UsageError(`--set ${entry}: expected key=value`);
    const raw = entry.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[entry.slice(0, at)] = value;
  }
  return out;
};

const COLUMNS = [
  { header: 'NAME', value: (c: Connector) => c.name },
  { header: 'KIND', value: (c: Connector) => c.kind },
  { header: 'STATE', value: (c: Connector) => c.state },
  { header: 'RECORDS', value: (c: Connector) => c.status?.records, align: 'right' as const },
  { header: 'LAST ERROR', value: (c: Connector) => c.status?.lastError },
];

export const registerConnector = (program: Command) => {
  const connector = program
    .command('connector')
    .description('managed pipelines: datagen sources, HTTP and S3 sinks')
    .addHelpText(
      'after',
      `
Examples:
  $ runnel connector create demo --kind datagen --set topic=orders --set template=orders --set recordsPerSecond=10
  $ runnel connector create hook --kind http-sink --config @hook.json
  $ runnel connector list
  $ runnel connector describe demo
  $ runnel connector pause demo
  $ runnel connector resume demo
  $ runnel connector delete demo`,
    );

  connector
    .command('list')
    .alias('ls')
    .description("list the tenant's connectors with state and progress")
    .action(async (_options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const connectors = await client().connectors.list();
      out.table(connectors, COLUMNS, { connectors }, '(no connectors)');
    });

  connector
    .command('create')
    .description('create a connector')
    .argument('<name>', 'connector name', resourceName)
    .requiredOption('--kind <kind>', 'datagen, http-sink or s3-sink')
    .option('--config <json>', 'its configuration: a JSON object or @file.json', parseConfig, {})
    .option('--set <key=value>', 'one configuration entry (repeatable)', collect)
    .action(
      async (
        name: string,
        options: { kind: string; config: Record<string, unknown>; set?: string[] },
        command: Command,
      ) => {
        const { out, client } = contextOf(command);
        const created = await client().connectors.create({
          name,
          kind: options.kind,
          config: applySets(options.config, options.set ?? []),
        });
        if (out.json) {
          out.writeJson(created);
          return;
        }
        out.note(`Created ${created.kind} connector ${created.name} (${created.state})`);
      },
    );

  connector
    .command('describe')
    .description("a connector's configuration (secrets redacted), state and status")
    .argument('<name>', 'connector name', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const c = await client().connectors.describe(name);
      out.fields(
        [
          ['Name', c.name],
          ['Kind', c.kind],
          ['State', c.state],
          ['Created', new Date(c.createdAt).toISOString()],
          ['Records', c.status?.records],
          ['Last error', c.status?.lastError],
          ['Config', JSON.stringify(c.config)],
        ],
        c,
      );
    });

  for (const [verb, state] of [
    ['pause', 'paused'],
    ['resume', 'running'],
  ] as const) {
    connector
      .command(verb)
      .description(`${verb} a connector`)
      .argument('<name>', 'connector name', resourceName)
      .action(async (name: string, _options: object, command: Command) => {
        const { out, client } = contextOf(command);
        const updated = await client().connectors.update(name, { state });
        if (out.json) {
          out.writeJson(updated);
          return;
        }
        out.note(`Connector ${name} is ${updated.state}`);
      });
  }

  connector
    .command('delete')
    .alias('rm')
    .description('delete a connector')
    .argument('<name>', 'connector name', resourceName)
    .action(async (name: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      await client().connectors.delete(name);
      if (out.json) {
        out.writeJson({ deleted: name });
        return;
      }
      out.note(`Deleted connector ${name}`);
    });
};
