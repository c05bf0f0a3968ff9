import { describe, expect, it } from 'vitest';
import { runTorture } from './torture/torture';

describe('torture (short seeded run of fixed size; the long one is `npm run torture`)', () => {
  it('loses, duplicates and reorders nothing under injected faults and crashes', async () => {
    // A fixed amount of work (not a time budget), so what the run covers does not depend on the machine's speed.
    const report = await runTorture({
      seed: 20261122,
      seconds: 0,
      requests: 4,
      producers: 3,
      crashRate: 0.15,
      faultRate: 0.02,
    });
    expect(report.violations).toEqual([]);
    expect(report).toMatchObject({
      lost: 0,
      duplicated: 0,
      offsetsHandedOutTwice: 0,
      ackMismatches: 0,
      reordered: 0,
      holes: 0,
      skipped: 0,
      tornBatches: 0,
      foreignValues: 0,
    });
    expect(report.attempts.unexpected).toBe(0);
    // The run did exercise the faults and the protocol, or it proves nothing.
    expect(report.requests.acked).toBeGreaterThan(5);
    expect(report.requests.solo).toBeGreaterThan(0); // appends in a partition's tail era, under faults
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    expect(Object.keys(report.faults).length).toBeGreaterThanOrEqual(4);
    expect(report.readRecords).toBeGreaterThanOrEqual(report.ackedRecords - report.plainDuplicates);
  }, 300_000); // a bound for a loaded machine (the run takes ~15 s on an idle one), not a timing
});
