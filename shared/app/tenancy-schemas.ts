import * as z from 'zod';
import { MAX_KEY_PERMISSIONS } from '#shared/constants';
import { ACTIONS, RESOURCE_PATTERN } from '#shared/domain/permissions';
import { MAX_RETENTION_CAP_MS, MIN_RATE_BYTES_PER_SEC, QUOTA_NAMES } from '#shared/domain/quotas';

const GiB = 1024 ** 3;

const count = (max: number) => z.number().int().min(0).max(max);
const rate = z
  .number()
  .int()
  .min(MIN_RATE_BYTES_PER_SEC)
  .max(100 * GiB);
const retentionCap = z
  .number()
  .int()
  .refine(
    (n) => n === -1 || (n > 0 && n <= MAX_RETENTION_CAP_MS),
    `maxRetentionMs is -1 (no cap) or 1..${MAX_RETENTION_CAP_MS} ms.`,
  );

const quotaFields = {
  maxTopics: count(1_000_000),
  maxPartitions: count(100_000_000),
  maxRetentionMs: retentionCap,
  maxStorageBytes: count(Number.MAX_SAFE_INTEGER),
  produceBytesPerSec: rate,
  fetchBytesPerSec: rate,
  maxConnectors: count(10_000),
};
type QuotaFields = typeof quotaFields;

/** Quotas as an operator sets them at creation: each optional, the rest follow the defaults. */
export const QuotasInputSchema = z.object(quotaFields).partial().strict().meta({ id: 'QuotasInput' });

/** Quotas in a PATCH: a number sets one, null returns it to the default, absent leaves it. */
export const QuotasPatchSchema = z
  .object(
    Object.fromEntries(Object.entries(quotaFields).map(([name, field]) => [name, field.nullable().optional()])) as {
      [K in keyof QuotaFields]: z.ZodOptional<z.ZodNullable<QuotaFields[K]>>;
    },
  )
  .strict()
  .meta({ id: 'QuotasPatch' });

type QuotaName = (typeof QUOTA_NAMES)[number];

/** The quotas in force, every one of {@link QUOTA_NAMES}. */
export const QuotasSchema = z
  .object(Object.fromEntries(QUOTA_NAMES.map((name) => [name, z.number().int()])) as Record<QuotaName, z.ZodNumber>)
  .meta({ id: 'Quotas' });

export const TenantSchema = z
  .object({ tenantId: z.string(), name: z.string(), createdAt: z.number().int(), quotas: QuotasSchema })
  .meta({ id: 'Tenant' });

export const TenantParamSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'A tenant id is 1-64 characters of [A-Za-z0-9-].'),
});

export const PermissionSchema = z
  .object({
    resource: z
      .string()
      .regex(
        RESOURCE_PATTERN,
        'resource is "*", "topic:<pattern>", "group:<pattern>" or "connector:<pattern>" (patterns use [a-zA-Z0-9._-] and *).',
      ),
    actions: z
      .array(z.enum(ACTIONS))
      .min(1)
      .refine((a) => new Set(a).size === a.length, 'actions are listed once each.'),
  })
  .strict()
  .meta({ id: 'Permission' });

export const CreateKeySchema = z
  .object({
    name: z.string().min(1).max(200),
    permissions: z.array(PermissionSchema).min(1).max(MAX_KEY_PERMISSIONS),
  })
  .strict()
  .meta({ id: 'CreateKey' });

export const KeySchema = z
  .object({
    keyId: z.string(),
    name: z.string(),
    permissions: z.array(PermissionSchema),
    createdAt: z.number().int(),
    lastUsedAt: z.number().int().optional(),
  })
  .meta({ id: 'ApiKey' });

export const KeyParamSchema = z.object({
  keyId: z.string().regex(/^[a-z0-9]{1,64}$/, 'A key id is 1-64 characters of [a-z0-9].'),
});
