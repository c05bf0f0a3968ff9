import { describe, expect, it } from 'vitest';
import type { CallTotals } from './call-recorder';
import {
  alternativesPerGb,
  belowKinesisIngest,
  breakEvenSize,
  inlineCrossover,
  perGb,
  priceRequest,
  type RequestProfile,
} from './cost-model';
import { S3_PUT_HEDGED_FRACTION } from './latency-model';
import { DEFAULT_FRONT_DOOR, GB } from './prices';

const calls = (over: Partial<CallTotals>): CallTotals => ({
  calls: 0,
  readUnits: 0,
  writeUnits: 0,
  s3Puts: 0,
  s3Gets: 0,
  s3PutBytes: 0,
  s3GetBytes: 0,
  ...over,
});

const profile = (over: Partial<RequestProfile>): RequestProfile => ({
  payloadBytes: 1024 * 1024,
  records: 1024,
  wireBytes: 1000,
  calls: calls({}),
  cpuMs: 0,
  ioWaitMs: 0,
  ...over,
});

describe('cost model', () => {
  it('prices each line item at list price', () => {
    const cost = priceRequest(
      profile({ calls: calls({ readUnits: 2, writeUnits: 1, s3Puts: 1, s3Gets: 1 }), ioWaitMs: 100 }),
      1024,
      'api-gateway',
    );
    expect(cost.apiGateway).toBeCloseTo(1e-6, 12);
    expect(cost.lambdaRequest).toBeCloseTo(0.2e-6, 12);
    // 100 ms at 1 GB.
    expect(cost.lambdaDuration).toBeCloseTo(0.1 * 0.0000133334, 12);
    expect(cost.dynamodbReads).toBeCloseTo(2 * 0.125e-6, 12);
    expect(cost.dynamodbWrites).toBeCloseTo(0.625e-6, 12);
    expect(cost.s3Puts).toBeCloseTo(5e-6 * (1 + S3_PUT_HEDGED_FRACTION), 12);
    expect(cost.s3Gets).toBeCloseTo(0.4e-6, 12);
  });

  it('meters API Gateway per 512 KB and scales CPU below a full vCPU', () => {
    expect(priceRequest(profile({ wireBytes: 512 * 1024 + 1 }), 1024, 'api-gateway').apiGateway).toBeCloseTo(2e-6, 12);
    expect(priceRequest(profile({ wireBytes: 5 * 1024 * 1024 }), 1024, 'api-gateway').apiGateway).toBeCloseTo(
      10e-6,
      12,
    );
    // 10 ms of CPU at 1,769 MB is 10 ms; at 884.5 MB it takes 20 ms, at half the memory: the same GB-s.
    const full = priceRequest(profile({ cpuMs: 10 }), 1769).lambdaDuration;
    const half = priceRequest(profile({ cpuMs: 10 }), 884.5).lambdaDuration;
    expect(half).toBeCloseTo(full, 10);
  });

  it("prices the default front door, the API function's Function URL, with no fee of its own", () => {
    expect(DEFAULT_FRONT_DOOR).toBe('function-url');
    const p = profile({ wireBytes: 1.07 * 1024 * 1024, calls: calls({ writeUnits: 3, s3Puts: 1 }), ioWaitMs: 40 });
    const viaUrl = priceRequest(p);
    const viaGateway = priceRequest(p, undefined, 'api-gateway');
    expect(viaUrl.apiGateway).toBe(0);
    // A 1.07 MB body is three 512 KB units of API Gateway; everything else is the same.
    expect(viaGateway.total - viaUrl.total).toBeCloseTo(3e-6, 12);
    expect(belowKinesisIngest(perGb(p))).toBeGreaterThan(belowKinesisIngest(perGb(p, undefined, 'api-gateway')));
    expect(belowKinesisIngest(0.01)).toBeCloseTo(8, 10);
  });

  it('turns a request price into $ per GB of payload', () => {
    const p = profile({ payloadBytes: GB / 1024 });
    expect(perGb(p)).toBeCloseTo(priceRequest(p).total * 1024, 10);
  });

  it('rounds Kinesis records up to 1 KB and prices Upstash per message', () => {
    expect(alternativesPerGb(1024).kinesisOnDemand.ingest).toBeCloseTo(0.08, 10);
    expect(alternativesPerGb(512).kinesisOnDemand.ingest).toBeCloseTo(0.16, 10);
    expect(alternativesPerGb(1024).upstashKafkaFormer.ingest).toBeCloseTo((GB / 1024) * 0.000002, 10);
  });

  it('finds where a falling curve crosses a price', () => {
    const curve = [
      { size: 1000, perGb: 1 },
      { size: 10_000, perGb: 0.1 },
      { size: 100_000, perGb: 0.01 },
    ];
    expect(breakEvenSize(curve, 0.1)).toBeCloseTo(10_000, 6);
    expect(breakEvenSize(curve, Math.sqrt(0.1 * 0.01))).toBeCloseTo(Math.sqrt(10_000 * 100_000), 3);
    expect(breakEvenSize(curve, 0.001)).toBeUndefined();
  });

  it('finds where S3 becomes cheaper than inline', () => {
    const points = [
      { size: 1, inline: 1, object: 3 },
      { size: 3, inline: 5, object: 3 },
    ];
    expect(inlineCrossover(points)).toBeCloseTo(2, 10);
    expect(inlineCrossover([{ size: 1, inline: 1, object: 2 }])).toBeUndefined();
  });
});
