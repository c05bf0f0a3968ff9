import type { CallTotals } from './call-recorder';
import { lambdaCpuMs, S3_PUT_HEDGED_FRACTION } from './latency-model';
import {
  AWS_PRICES,
  DEFAULT_FRONT_DOOR,
  type FrontDoor,
  GB,
  KINESIS_ON_DEMAND,
  MODEL_ASSUMPTIONS,
  MSK_SERVERLESS,
  UPSTASH_KAFKA_FORMER,
} from './prices';

/** What one request costs us, as measured on the local stack (calls, units, bytes) and modelled (wait). */
export interface RequestProfile {
  /** Record payload bytes the request carries (produce) or returns (fetch). */
  payloadBytes: number;
  records: number;
  /** HTTP body bytes (request body for produce, response body for fetch): API Gateway meters these. */
  wireBytes: number;
  /** AWS calls of one request, with DynamoDB capacity units and S3 bytes. */
  calls: CallTotals;
  /** Handler CPU per request, measured locally (ms). */
  cpuMs: number;
  /** Mean time the function waits on AWS calls (modelled, ms). */
  ioWaitMs: number;
}

export interface CostBreakdown {
  /** API Gateway's request fee: 0 behind the Function URL. */
  apiGateway: number;
  lambdaRequest: number;
  lambdaDuration: number;
  dynamodbReads: number;
  dynamodbWrites: number;
  s3Puts: number;
  s3Gets: number;
  total: number;
}

/** Duration Lambda bills: CPU (slower below a full vCPU) plus the wait on AWS calls, rounded up to 1 ms. */
export const billedDurationMs = (profile: Pick<RequestProfile, 'cpuMs' | 'ioWaitMs'>, memoryMb: number) => {
  const cpu = lambdaCpuMs(profile.cpuMs, memoryMb);
  return (
    Math.ceil((cpu + profile.ioWaitMs) / AWS_PRICES.lambda.billingIncrementMs) * AWS_PRICES.lambda.billingIncrementMs
  );
};

/** $ for one request at list prices, through this front door (the deployment's default unless given). */
export const priceRequest = (
  profile: RequestProfile,
  memoryMb: number = MODEL_ASSUMPTIONS.lambdaMemoryMb,
  frontDoor: FrontDoor = DEFAULT_FRONT_DOOR,
): CostBreakdown => {
  const p = AWS_PRICES;
  const apiUnits = Math.max(1, Math.ceil(profile.wireBytes / p.apiGatewayHttp.meteringIncrementBytes));
  const gbSeconds = (billedDurationMs(profile, memoryMb) / 1000) * (memoryMb / 1024);
  const cost = {
    apiGateway: frontDoor === 'api-gateway' ? apiUnits * p.apiGatewayHttp.request : p.lambdaFunctionUrl.request,
    lambdaRequest: p.lambda.request,
    lambdaDuration: gbSeconds * p.lambda.gbSecondArm64,
    dynamodbReads: profile.calls.readUnits * p.dynamodb.readRequestUnit,
    dynamodbWrites: profile.calls.writeUnits * p.dynamodb.writeRequestUnit,
    // Hedged: a slow PUT is sent twice (S3_PUT_HEDGED_FRACTION of them in the latency model).
    s3Puts: profile.calls.s3Puts * (1 + S3_PUT_HEDGED_FRACTION) * p.s3.put,
    s3Gets: profile.calls.s3Gets * p.s3.get,
  };
  return { ...cost, total: Object.values(cost).reduce((s, x) => s + x, 0) };
};

/** $ per GB of payload moved by requests of this profile. */
export const perGb = (profile: RequestProfile, memoryMb?: number, frontDoor?: FrontDoor) =>
  (priceRequest(profile, memoryMb, frontDoor).total * GB) / profile.payloadBytes;

/** How many times cheaper than Kinesis on-demand's ingest price an ingest $/GB is (the goal is ≥ 8). */
export const belowKinesisIngest = (ingestPerGb: number) => KINESIS_ON_DEMAND.ingestGb / ingestPerGb;

/** $ to keep one GB for the retention period: in S3, or in DynamoDB items when it is inline. */
export const storagePerGb = (where: 's3' | 'dynamodb', retentionDays: number = MODEL_ASSUMPTIONS.retentionDays) =>
  (where === 's3' ? AWS_PRICES.s3.storageGbMonth : AWS_PRICES.dynamodb.storageGbMonth) *
  (retentionDays / MODEL_ASSUMPTIONS.daysPerMonth);

/** Other services' $ per GB for records of `recordBytes` (variable part; fixed hourly fees apart). */
export const alternativesPerGb = (recordBytes: number) => {
  const kinesisRounding =
    Math.ceil(recordBytes / KINESIS_ON_DEMAND.recordRoundingBytes) * KINESIS_ON_DEMAND.recordRoundingBytes;
  const messagesPerGb = GB / recordBytes;
  return {
    kinesisOnDemand: {
      ingest: KINESIS_ON_DEMAND.ingestGb * (kinesisRounding / recordBytes),
      consume: KINESIS_ON_DEMAND.retrievalGb,
      fixedPerMonth: KINESIS_ON_DEMAND.streamHour * MODEL_ASSUMPTIONS.hoursPerMonth,
    },
    mskServerless: {
      ingest: MSK_SERVERLESS.ingestGb,
      consume: MSK_SERVERLESS.retrievalGb,
      fixedPerMonth: MSK_SERVERLESS.clusterHour * MODEL_ASSUMPTIONS.hoursPerMonth,
    },
    upstashKafkaFormer: {
      ingest: UPSTASH_KAFKA_FORMER.message * messagesPerGb,
      consume: UPSTASH_KAFKA_FORMER.message * messagesPerGb,
      fixedPerMonth: 0,
    },
  };
};

/**
 * The size at which a falling cost curve crosses `target` ($/GB), interpolated on
 * log-log axes between the measured sizes; undefined if it never crosses in range.
 */
export const breakEvenSize = (curve: readonly { size: number; perGb: number }[], target: number) => {
  const sorted = [...curve].sort((a, b) => a.size - b.size);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] as { size: number; perGb: number };
    const b = sorted[i] as { size: number; perGb: number };
    if (a.perGb >= target && b.perGb <= target) {
      if (a.perGb === b.perGb) return a.size;
      const t = (Math.log(a.perGb) - Math.log(target)) / (Math.log(a.perGb) - Math.log(b.perGb));
      return Math.exp(Math.log(a.size) + t * (Math.log(b.size) - Math.log(a.size)));
    }
  }
  if (sorted[0] && sorted[0].perGb <= target) return sorted[0].size;
  return undefined;
};

/** One request's whole life: produce it, keep it for the retention period, and read it `consumers` times. */
export interface LifecycleCost {
  produce: number;
  storage: number;
  consume: number;
  total: number;
}

export const lifecycleCost = (
  produce: RequestProfile,
  fetch: RequestProfile,
  storedIn: 's3' | 'dynamodb',
  consumers: number,
  retentionDays: number = MODEL_ASSUMPTIONS.retentionDays,
): LifecycleCost => {
  const p = priceRequest(produce).total;
  const storage = (storagePerGb(storedIn, retentionDays) * produce.payloadBytes) / GB;
  const consume = consumers * priceRequest(fetch).total;
  return { produce: p, storage, consume, total: p + storage + consume };
};

/** First size where storing in S3 costs no more than inline, from paired measurements at the same sizes. */
export const inlineCrossover = (points: readonly { size: number; inline: number; object: number }[]) => {
  const sorted = [...points].sort((a, b) => a.size - b.size);
  for (let i = 0; i < sorted.length; i++) {
    const b = sorted[i] as { size: number; inline: number; object: number };
    if (b.inline >= b.object) {
      const a = sorted[i - 1];
      if (!a) return b.size;
      // Linear interpolation of the difference between the two sizes.
      const da = a.inline - a.object;
      const db = b.inline - b.object;
      return a.size + ((b.size - a.size) * da) / (da - db);
    }
  }
  return undefined;
};
