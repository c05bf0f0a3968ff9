import { type Command, InvalidArgumentError } from 'commander';
import { contextOf } from '../context';
import { UsageError } from '../errors';
import { confirmByName } from './topic';

/** `--quota maxTopics=100` (repeatable); `none` removes a quota (back to the default). */
const collectQuota = (value: string, previous: Record<string, number | null> = {}) => {
  const at = value.indexOf('=');
  const name = value.slice(0, at);
  const raw = value.slice(at + 1);
  if (at <= 0 || !(raw === 'none' || /^-?\d+$/.test(raw))) {
    throw new InvalidArgumentError('expected NAME=NUMBER (or NAME=none), e.g. maxTopics=100.');
  }
  return { ...previous, [name]: raw === 'none' ? null : Number(raw) };
};

const text = (v: unknown) =>
  v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);

export const registerTenant = (program: Command) => {
  const tenant = program
    .command('tenant')
    .description('tenant administration (needs the operator key: --operator-key or RUNNEL_OPERATOR_KEY)')
    .addHelpText(
      'after',
      `
Examples:
  $ runnel tenant create acme --quota maxTopics=50
  $ runnel tenant list
  $ runnel tenant update TENANT_ID --quota produceBytesPerSec=1048576
  $ runnel tenant delete TENANT_ID --yes`,
    );

  tenant
    .command('list')
    .alias('ls')
    .description('list tenants')
    .action(async (_options: object, command: Command) => {
      const { out, operatorClient } = contextOf(command);
      const tenants = await operatorClient().tenants.list();
      out.table(
        tenants,
        [
          { header: 'TENANT ID', value: (t) => text(t.tenantId) },
          { header: 'NAME', value: (t) => text(t.name) },
          { header: 'QUOTAS', value: (t) => text(t.quotas) },
        ],
        { tenants },
        '(no tenants)',
      );
    });

  tenant
    .command('create')
    .description('create a tenant; its first key (all permissions) is printed once')
    .argument('<name>', 'tenant name')
    .option('--quota <name=value>', 'a quota, e.g. maxTopics=100 (repeatable)', collectQuota)
    .action(async (name: string, options: { quota?: Record<string, number | null> }, command: Command) => {
      const { out, operatorClient } = contextOf(command);
      const quotas = options.quota;
      if (quotas && Object.values(quotas).some((v) => v === null))
        throw new UsageError('a new tenant has no quota to remove');
      const created = await operatorClient().tenants.create({
        name,
        ...(quotas ? { quotas: quotas as Record<string, number> } : {}),
      });
      if (out.json) {
        out.writeJson(created);
        return;
      }
      out.line(created.apiKey);
      out.note(`Created tenant ${created.tenantId}. Its key above is shown only once: store it now.`);
    });

  tenant
    .command('update')
    .description("change a tenant's quotas")
    .argument('<tenant-id>', 'tenant id')
    .requiredOption('--quota <name=value>', 'a quota (repeatable); NAME=none goes back to the default', collectQuota)
    .action(async (tenantId: string, options: { quota: Record<string, number | null> }, command: Command) => {
      const { out, operatorClient } = contextOf(command);
      const updated = await operatorClient().tenants.update(tenantId, { quotas: options.quota });
      if (out.json) {
        out.writeJson(updated);
        return;
      }
      out.note(`Updated tenant ${tenantId}`);
    });

  tenant
    .command('delete')
    .alias('rm')
    .description('delete a tenant; its keys stop working at once')
    .argument('<tenant-id>', 'tenant id')
    .option('-y, --yes', 'do not ask')
    .action(async (tenantId: string, options: { yes?: boolean }, command: Command) => {
      const { out, operatorClient } = contextOf(command);
      if (!options.yes) await confirmByName(tenantId, 'tenant');
      await operatorClient().tenants.delete(tenantId);
      if (out.json) {
        out.writeJson({ deleted: tenantId });
        return;
      }
      out.note(`Deleted tenant ${tenantId}`);
    });
};
