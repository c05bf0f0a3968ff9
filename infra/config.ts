import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * The deployment's parameters, from CDK context (`cdk.json` or `-c key=value`). Bad
 * values throw at synth time, naming the parameter; nothing is clamped or guessed.
 */
export interface DeployConfig {
  /** Lower-case name of this deployment (part of the stack name). @default 'prod' */
  stageName: string;
  /**
   * What clients call: `functionUrl`, the API function's own Lambda Function URL (no
   * per-request fee besides Lambda's), or `httpApi`, an API Gateway HTTP API in front of
   * it (stage throttling, access log, custom domain; $1 per million requests, metered per
   * 512 KB). docs/deploy.md weighs the two. @default 'functionUrl'
   */
  frontDoor: FrontDoorKind;
  /**
   * Reserved concurrency of the API function: the most requests it serves at once (the
   * Function URL's throttle; requests beyond it get 429). @default none (the account's limit)
   */
  apiReservedConcurrency: number | undefined;
  /** Custom domain for the API (`httpApi` only); requires `certificateArn` (an ACM certificate in the stack's region). */
  domainName: string | undefined;
  certificateArn: string | undefined;
  /** Origins allowed by CORS; empty means no CORS headers (server-to-server use). @default [] */
  corsOrigins: string[];
  /** Where alarms are e-mailed; alarms still go to the SNS topic without it. */
  alarmEmail: string | undefined;
  /** API Gateway default-stage throttling (`httpApi` only): steady requests/s. @default 1000 */
  throttleRateLimit: number;
  /** API Gateway default-stage throttling (`httpApi` only): burst. @default 2000 */
  throttleBurstLimit: number;
  /** X-Ray active tracing on the functions. @default false */
  tracing: boolean;
  /** Days the functions' and the API's logs are kept. @default 30 */
  logRetentionDays: logs.RetentionDays;
}

export const FRONT_DOORS = ['functionUrl', 'httpApi'] as const;
export type FrontDoorKind = (typeof FRONT_DOORS)[number];

export const CONTEXT_KEYS = [
  'stageName',
  'frontDoor',
  'apiReservedConcurrency',
  'domainName',
  'certificateArn',
  'corsOrigins',
  'alarmEmail',
  'throttleRateLimit',
  'throttleBurstLimit',
  'tracing',
  'logRetentionDays',
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

export class DeployConfigError extends Error {
  constructor(key: ContextKey, message: string) {
    super(`Invalid context '${key}': ${message}`);
    this.name = 'DeployConfigError';
  }
}

const RETENTION_DAYS = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0),
);

const optionalString = (key: ContextKey, value: unknown): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new DeployConfigError(key, 'must be a string');
  return value;
};

const integer = (key: ContextKey, value: unknown, fallback: number, min: number, max: number): number => {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DeployConfigError(key, `must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  }
  return n;
};

const boolean = (key: ContextKey, value: unknown, fallback: boolean): boolean => {
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new DeployConfigError(key, `must be true or false, not ${JSON.stringify(value)}`);
};

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const corsOrigins = (value: unknown): string[] => {
  if (value === undefined || value === null || value === '') return [];
  const list =
    typeof value === 'string'
      ? value.split(',').map((s) => s.trim())
      : Array.isArray(value)
        ? value
        : [Symbol('not a list')];
  return list.map((origin) => {
    if (origin === '*') return origin;
    if (typeof origin !== 'string' || !ORIGIN.test(origin)) {
      throw new DeployConfigError(
        'corsOrigins',
        `each origin must be '*' or scheme://host[:port] with no path, not ${String(origin)}`,
      );
    }
    return origin;
  });
};

/** Reads and checks the context; `get` is `app.node.tryGetContext`. */
export const readDeployConfig = (get: (key: ContextKey) => unknown): DeployConfig => {
  const stageName = optionalString('stageName', get('stageName')) ?? 'prod';
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stageName)) {
    throw new DeployConfigError(
      'stageName',
      'must be 1-20 lower-case letters, digits or dashes, starting with a letter',
    );
  }
  const frontDoor = optionalString('frontDoor', get('frontDoor')) ?? 'functionUrl';
  if (!(FRONT_DOORS as readonly string[]).includes(frontDoor)) {
    throw new DeployConfigError('frontDoor', `must be one of ${FRONT_DOORS.join(', ')}, not ${frontDoor}`);
  }
  // These configure API Gateway: without it they would silently do nothing.
  if (frontDoor !== 'httpApi') {
    for (const key of ['domainName', 'certificateArn', 'throttleRateLimit', 'throttleBurstLimit'] as const) {
      const value = get(key);
      if (value !== undefined && value !== null && value !== '') {
        throw new DeployConfigError(key, 'configures API Gateway: it needs frontDoor=httpApi');
      }
    }
  }
  const apiReservedConcurrency = get('apiReservedConcurrency');
  const domainName = optionalString('domainName', get('domainName'));
  const certificateArn = optionalString('certificateArn', get('certificateArn'));
  if (domainName && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domainName)) {
    throw new DeployConfigError('domainName', `must be a lower-case DNS name, not ${domainName}`);
  }
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new DeployConfigError(
      domainName ? 'certificateArn' : 'domainName',
      'domainName and certificateArn go together',
    );
  }
  if (certificateArn && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)) {
    throw new DeployConfigError('certificateArn', `must be an ACM certificate ARN, not ${certificateArn}`);
  }
  const alarmEmail = optionalString('alarmEmail', get('alarmEmail'));
  if (alarmEmail && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
    throw new DeployConfigError('alarmEmail', `must be an e-mail address, not ${alarmEmail}`);
  }
  const throttleRateLimit = integer('throttleRateLimit', get('throttleRateLimit'), 1000, 1, 10_000);
  const throttleBurstLimit = integer('throttleBurstLimit', get('throttleBurstLimit'), 2000, 1, 5000);
  const logRetentionDays = integer('logRetentionDays', get('logRetentionDays'), 30, 1, 3653);
  if (!RETENTION_DAYS.has(logRetentionDays)) {
    throw new DeployConfigError(
      'logRetentionDays',
      `must be one of CloudWatch's values (${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')})`,
    );
  }
  return {
    stageName,
    frontDoor: frontDoor as FrontDoorKind,
    apiReservedConcurrency:
      apiReservedConcurrency === undefined || apiReservedConcurrency === null || apiReservedConcurrency === ''
        ? undefined
        : integer('apiReservedConcurrency', apiReservedConcurrency, 0, 1, 10_000),
    domainName,
    certificateArn,
    corsOrigins: corsOrigins(get('corsOrigins')),
    alarmEmail,
    throttleRateLimit,
    throttleBurstLimit,
    tracing: boolean('tracing', get('tracing'), false),
    logRetentionDays: logRetentionDays as logs.RetentionDays,
  };
};
