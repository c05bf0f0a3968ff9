import { describe, expect, it } from 'vitest';
import { type RecordedCall, roundTrips } from './call-recorder';
import { meanLatency, percentiles, replayCalls, sampleLatency, seededRandom } from './latency-model';

const call = (operation: string, start: number, end: number): RecordedCall => ({
  operation,
  start,
  end,
  ok: true,
  readUnits: 0,
  writeUnits: 0,
  bytes: 0,
});

describe('latency model', () => {
  it('draws a lognormal with the requested p50 and p99', () => {
    const random = seededRandom(1);
    const d = { p50Ms: 10, p99Ms: 50, source: 'test' };
    const samples = Array.from({ length: 50_000 }, () => sampleLatency(d, random));
    const p = percentiles(samples);
    expect(p.p50).toBeGreaterThan(9.5);
    expect(p.p50).toBeLessThan(10.5);
    expect(p.p99).toBeGreaterThan(45);
    expect(p.p99).toBeLessThan(55);
    expect(p.mean).toBeGreaterThan(meanLatency(d) * 0.97);
    expect(p.mean).toBeLessThan(meanLatency(d) * 1.03);
  });

  it('replays sequential calls in sequence and overlapping calls in parallel', () => {
    // GetItem, then two queries side by side, then a write.
    const calls = [
      call('DynamoDB.GetItem', 0, 5),
      call('DynamoDB.Query', 6, 10),
      call('DynamoDB.Query', 6.5, 11),
      call('DynamoDB.PutItem', 12, 20),
    ];
    const replay = replayCalls(calls, (c) => (c.operation === 'DynamoDB.PutItem' ? 7 : 3));
    expect(replay.doneAt).toBe(3 + 3 + 7);
    expect(replay.commitAt).toBe(13);
    expect(roundTrips(calls)).toBe(3);
    expect(roundTrips([])).toBe(0);
  });

  it('does not wait for calls sent beside the answer; a usage read may delay what followed it, a usage write nothing', () => {
    const usage = (operation: string, start: number, end: number) => ({
      ...call(operation, start, end),
      beside: true,
      delaysNothing: operation === 'DynamoDB.UpdateItem',
    });
    // A usage read awaited before the append (it ended before the put started); the usage
    // write ended locally before the put started too, but nothing waits for it.
    const calls = [
      usage('DynamoDB.Query', 0, 4),
      usage('DynamoDB.UpdateItem', 4.5, 6),
      call('DynamoDB.PutItem', 7, 10),
    ];
    const replay = replayCalls(calls, (c) => (c.operation === 'DynamoDB.UpdateItem' ? 50 : 3));
    expect(replay.doneAt).toBe(3 + 3);
    expect(roundTrips(calls)).toBe(2);
    // Alone, a call beside the answer is no round trip of it.
    expect(roundTrips([usage('DynamoDB.UpdateItem', 0, 5)])).toBe(0);
  });
});
