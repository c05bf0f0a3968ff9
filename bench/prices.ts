/**
 * List prices the cost model uses, in US dollars, region us-east-1, on-demand, first
 * pricing tier, no free tier. Change them here and `npm run bench` reprices everything.
 *
 * As of: the AWS pricing pages as published in 2025 (DynamoDB on-demand after the
 * 50% reduction of 2024-11-01; Lambda, API Gateway and S3 unchanged since 2022).
 * They were not re-read online when this file was written (2026-11-22): check them on
 * https://aws.amazon.com/{lambda,api-gateway,dynamodb,s3,kinesis,msk}/pricing/ before
 * quoting a figure.
 */
export const PRICES_AS_OF = '2025 list prices (DynamoDB on-demand after 2024-11-01), recorded 2026-11-22';

export const AWS_PRICES = {
  lambda: {
    /** $ per request. */
    request: 0.2 / 1e6,
    /** $ per GB-second of duration, arm64 (Graviton), first 7.5 billion GB-s a month. */
    gbSecondArm64: 0.0000133334,
    /** Duration is billed in 1 ms increments. */
    billingIncrementMs: 1,
  },
  /** A Lambda Function URL costs nothing beyond the invocation it makes (buffered responses). */
  lambdaFunctionUrl: {
    request: 0,
  },
  apiGatewayHttp: {
    /** $ per request, HTTP API, first 300 million a month. */
    request: 1.0 / 1e6,
    /** HTTP API requests are metered in 512 KB increments: a 1 MB request counts as two. */
    meteringIncrementBytes: 512 * 1024,
  },
  dynamodb: {
    /** $ per write request unit (on-demand): one standard write of up to 1 KB. */
    writeRequestUnit: 0.625 / 1e6,
    /** $ per read request unit (on-demand): one strongly consistent read of up to 4 KB. */
    readRequestUnit: 0.125 / 1e6,
    /** $ per GB-month stored (Standard table class). */
    storageGbMonth: 0.25,
  },
  s3: {
    /** $ per PUT (S3 Standard: $0.005 per 1,000). */
    put: 0.005 / 1000,
    /** $ per GET (S3 Standard: $0.0004 per 1,000). */
    get: 0.0004 / 1000,
    /** $ per GB-month, S3 Standard, first 50 TB. */
    storageGbMonth: 0.023,
  },
} as const;

/** Amazon Kinesis Data Streams, on-demand mode, us-east-1. */
export const KINESIS_ON_DEMAND = {
  /** $ per GB written; each record's payload is rounded up to 1 KB. */
  ingestGb: 0.08,
  /** $ per GB read. */
  retrievalGb: 0.04,
  /** $ per stream-hour, whether used or not. */
  streamHour: 0.04,
  recordRoundingBytes: 1024,
} as const;

/** Amazon MSK Serverless, us-east-1. */
export const MSK_SERVERLESS = {
  clusterHour: 0.75,
  partitionHour: 0.0015,
  ingestGb: 0.1,
  retrievalGb: 0.05,
  storageGbMonth: 0.1,
} as const;

/**
 * Upstash Kafka's pay-as-you-go price while the service was sold (it was discontinued
 * in 2025): per message, produce or consume, whatever its size (up to 1 MB).
 */
export const UPSTASH_KAFKA_FORMER = {
  message: 0.2 / 100_000,
} as const;

/**
 * What clients call, as deployed: the API function's Function URL by default, or an API
 * Gateway HTTP API (`-c frontDoor=httpApi`); see docs/deploy.md.
 */
export type FrontDoor = 'function-url' | 'api-gateway';
export const DEFAULT_FRONT_DOOR: FrontDoor = 'function-url';

/** Assumptions of the model that are not prices; each is stated in docs/performance.md. */
export const MODEL_ASSUMPTIONS = {
  /** Memory of the API function. Lambda gives 1 vCPU at 1,769 MB, proportionally less below. */
  lambdaMemoryMb: 1024,
  lambdaFullVcpuMb: 1769,
  /** Retention the storage line assumes (the topic default). */
  retentionDays: 7,
  hoursPerMonth: 730,
  daysPerMonth: 30.4,
} as const;

export const GB = 1024 ** 3;
