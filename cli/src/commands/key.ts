import type { Permission } from '@runnel/client';
import { type Command, InvalidArgumentError } from 'commander';
import { contextOf } from '../context';
import { parseDuration } from '../durations';

const ACTIONS = new Set(['produce', 'consume', 'manage']);

/** `RESOURCE=ACTION[,ACTION]` of `--allow`: `topic:orders-*=produce,consume`, `*=manage`. */
export const parsePermission = (value: string): Permission => {
  const at = value.lastIndexOf('=');
  const resource = value.slice(0, at);
  const actions = value.slice(at + 1).split(',');
  if (at <= 0 || !actions.every((a) => ACTIONS.has(a))) {
    throw new InvalidArgumentError('expected RESOURCE=ACTION[,ACTION] with actions produce, consume, manage.');
  }
  if (!(resource === '*' || /^(topic|group):[a-zA-Z0-9._*-]+$/.test(resource))) {
    throw new InvalidArgumentError('the resource is topic:NAME, group:NAME (a trailing * matches a prefix) or *.');
  }
  return { resource, actions: actions as Permission['actions'] };
};

const collectPermission = (value: string, previous: Permission[] = []) => [...previous, parsePermission(value)];

export const registerKey = (program: Command) => {
  const key = program
    .command('key')
    .description("manage the tenant's API keys")
    .addHelpText(
      'after',
      `
Examples:
  $ runnel key create billing --allow 'topic:orders-*=consume' --allow 'group:billing=consume'
  $ runnel key list
  $ runnel key revoke KEY_ID`,
    );

  key
    .command('list')
    .alias('ls')
    .description("list the tenant's keys (never their secrets)")
    .action(async (_options: object, command: Command) => {
      const { out, client } = contextOf(command);
      const keys = await client().keys.list();
      out.table(
        keys,
        [
          { header: 'KEY ID', value: (k) => String(k.keyId ?? '') },
          { header: 'NAME', value: (k) => String(k.name ?? '') },
          {
            header: 'PERMISSIONS',
            value: (k) =>
              Array.isArray(k.permissions)
                ? (k.permissions as Permission[]).map((p) => `${p.resource}=${p.actions.join(',')}`).join(' ')
                : '',
          },
          {
            header: 'CREATED',
            value: (k) => (typeof k.createdAt === 'number' ? new Date(k.createdAt).toISOString() : null),
          },
        ],
        { keys },
        '(no keys)',
      );
    });

  key
    .command('create')
    .description('create a key; its secret is printed once')
    .argument('<name>', 'a name to recognise the key by')
    .requiredOption(
      '--allow <resource=actions>',
      'a permission, e.g. topic:orders-*=produce (repeatable)',
      collectPermission,
    )
    .action(async (name: string, options: { allow: Permission[] }, command: Command) => {
      const { out, client } = contextOf(command);
      const created = await client().keys.create({ name, permissions: options.allow });
      if (out.json) {
        out.writeJson(created);
        return;
      }
      out.line(created.apiKey);
      out.note(`Created key ${created.keyId}. The secret above is shown only once: store it now.`);
    });

  key
    .command('revoke')
    .description('revoke a key at once')
    .argument('<key-id>', 'the key id (see runnel key list)')
    .action(async (keyId: string, _options: object, command: Command) => {
      const { out, client } = contextOf(command);
      await client().keys.revoke(keyId);
      if (out.json) {
        out.writeJson({ revoked: keyId });
        return;
      }
      out.note(`Revoked key ${keyId}`);
    });
};

export const registerToken = (program: Command) => {
  const token = program.command('token').description('mint read-only tokens for browsers and EventSource');
  token
    .command('create')
    .description('mint a read-only token (consume only, a subset of this key)')
    .requiredOption(
      '--allow <resource=actions>',
      'a permission, e.g. topic:orders=consume (repeatable)',
      collectPermission,
    )
    .option('--ttl <duration>', 'lifetime, 1m to 24h', parseDuration)
    .addHelpText('after', "\nExample:\n  $ runnel token create --allow 'topic:orders=consume' --ttl 15m")
    .action(async (options: { allow: Permission[]; ttl?: number }, command: Command) => {
      const { out, client } = contextOf(command);
      const minted = await client().tokens.create({
        permissions: options.allow,
        ...(options.ttl === undefined ? {} : { ttlSeconds: Math.round(options.ttl / 1000) }),
      });
      if (out.json) {
        out.writeJson(minted);
        return;
      }
      out.line(minted.token);
      out.note(`Expires at ${new Date(minted.expiresAt).toISOString()}`);
    });
};
