import * as v from 'valibot';
import { MAX_KEY_PERMISSIONS } from '#shared/constants';
import { ACTIONS, RESOURCE_PATTERN } from '#shared/domain/permissions';
import { MAX_RETENTION_CAP_MS, MIN_RATE_BYTES_PER_SEC, QUOTA_NAMES } from '#shared/domain/quotas';
import { int } from '#shared/domain/validation';

const GiB = 1024 ** 3;

const count = (max: number) => v.pipe(int(), v.minValue(0), v.maxValue(max));
const rate = () => v.pipe(int(), v.minValue(MIN_RATE_BYTES_PER_SEC), v.maxValue(100 * GiB));
const retentionCap = () =>
  v.pipe(
    int(),
    v.check(
      (n) => n === -1 || (n > 0 && n <= MAX_RETENTION_CAP_MS),
      `maxRetentionMs is -1 (no cap) or 1..${MAX_RETENTION_CAP_MS} ms.`,
    ),
  );

const quotaFields = {
  maxTopics: count(1_000_000),
  maxPartitions: count(100_000_000),
  maxRetentionMs: retentionCap(),
  maxStorageBytes: count(Number.MAX_SAFE_INTEGER),
  produceBytesPerSec: rate(),
  fetchBytesPerSec: rate(),
  maxConnectors: count(10_000),
};
type QuotaFields = typeof quotaFields;

/** Quotas as an operator sets them at creation: each optional, the rest follow the defaults. */
export const QuotasInputSchema = v.pipe(
  v.strictObject(
    Object.fromEntries(Object.entries(quotaFields).map(([name, field]) => [name, v.optional(field)])) as {
      [K in keyof QuotaFields]: v.OptionalSchema<QuotaFields[K], undefined>;
    },
  ),
  v.metadata({ id: 'QuotasInput' }),
);

/** Quotas in a PATCH: a number sets one, null returns it to the default, absent leaves it. */
export const QuotasPatchSchema = v.pipe(
  v.strictObject(
    Object.fromEntries(Object.entries(quotaFields).map(([name, field]) => [name, v.nullish(field)])) as {
      [K in keyof QuotaFields]: v.NullishSchema<QuotaFields[K], undefined>;
    },
  ),
  v.metadata({ id: 'QuotasPatch' }),
);

type QuotaName = (typeof QUOTA_NAMES)[number];

/** The quotas in force, every one of {@link QUOTA_NAMES}. */
export const QuotasSchema = v.pipe(
  v.object(Object.fromEntries(QUOTA_NAMES.map((name) => [name, int()])) as Record<QuotaName, ReturnType<typeof int>>),
  v.metadata({ id: 'Quotas' }),
);

export const TenantSchema = v.pipe(
  v.object({ tenantId: v.string(), name: v.string(), createdAt: int(), quotas: QuotasSchema }),
  v.metadata({ id: 'Tenant' }),
);

export const TenantParamSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,64}$/, 'A tenant id is 1-64 characters of [A-Za-z0-9-].')),
});

export const PermissionSchema = v.pipe(
  v.strictObject({
    resource: v.pipe(
      v.string(),
      v.regex(
        RESOURCE_PATTERN,
        'resource is "*", "topic:<pattern>", "group:<pattern>" or "connector:<pattern>" (patterns use [a-zA-Z0-9._-] and *).',
      ),
    ),
    actions: v.pipe(
      v.array(v.picklist(ACTIONS)),
      v.minLength(1),
      v.check((a) => new Set(a).size === a.length, 'actions are listed once each.'),
    ),
  }),
  v.metadata({ id: 'Permission' }),
);

export const CreateKeySchema = v.pipe(
  v.strictObject({
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    permissions: v.pipe(v.array(PermissionSchema), v.minLength(1), v.maxLength(MAX_KEY_PERMISSIONS)),
  }),
  v.metadata({ id: 'CreateKey' }),
);

export const KeySchema = v.pipe(
  v.object({
    keyId: v.string(),
    name: v.string(),
    permissions: v.array(PermissionSchema),
    createdAt: int(),
    lastUsedAt: v.optional(int()),
  }),
  v.metadata({ id: 'ApiKey' }),
);

export const KeyParamSchema = v.object({
  keyId: v.pipe(v.string(), v.regex(/^[a-z0-9]{1,64}$/, 'A key id is 1-64 characters of [a-z0-9].')),
});
