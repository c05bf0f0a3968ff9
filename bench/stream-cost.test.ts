import { describe, expect, it } from 'vitest';
import { LONG_POLL_INTERVAL_MS } from '#shared/services/long-poll';
import { AWS_PRICES } from './prices';
import { DEFAULT_STREAM_COST_ASSUMPTIONS, sseCostPerHour, webSocketCostPerHour } from './stream-cost';

describe('stream cost model', () => {
  it('bills an idle SSE browser for a whole hour of the stream function and a tail read per re-check', () => {
    const idle = sseCostPerHour(0);
    expect(idle.parts.lambdaDuration).toBeCloseTo(0.25 * 3600 * AWS_PRICES.lambda.gbSecondArm64, 10);
    const reChecksPerHour = 3_600_000 / (LONG_POLL_INTERVAL_MS + 4);
    expect(idle.parts.dynamodbTailReads).toBeCloseTo(reChecksPerHour * AWS_PRICES.dynamodb.readRequestUnit, 10);
    expect(idle.parts.dynamodbEventReads).toBe(0);
    expect(idle.total).toBeGreaterThan(0.015);
  });

  it('adds per-event reads, the quota write and bytes at 1 event/s; tail reads grow with partitions', () => {
    const busy = sseCostPerHour(1);
    expect(busy.parts.dynamodbQuotaWrites).toBeCloseTo(3600 * AWS_PRICES.dynamodb.writeRequestUnit, 10);
    expect(busy.total).toBeGreaterThan(sseCostPerHour(0).total);
    const three = sseCostPerHour(0, { ...DEFAULT_STREAM_COST_ASSUMPTIONS, partitions: 3 });
    expect(three.parts.dynamodbTailReads).toBeCloseTo(3 * (sseCostPerHour(0).parts.dynamodbTailReads as number), 10);
  });

  it('prices a WebSocket browser by connection-minutes and messages', () => {
    expect(webSocketCostPerHour(0).parts.connectionMinutes).toBeCloseTo(60 * 0.25e-6, 12);
    expect(webSocketCostPerHour(1).parts.messages).toBeCloseTo((3600 + 12) * 1e-6, 10);
    // The honest comparison the docs state: idle, WebSocket is orders of magnitude cheaper.
    expect(webSocketCostPerHour(0).total * 100).toBeLessThan(sseCostPerHour(0).total);
  });
});
