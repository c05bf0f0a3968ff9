import { parseArgs } from 'node:util';
import { runTorture, type TortureReport } from './torture';

/** `npm run torture -- --seed N --seconds S`: prints the report, exits 1 on any violation. */
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    seconds: { type: 'string', default: '20' },
    producers: { type: 'string', default: '6' },
    'fault-rate': { type: 'string', default: '0.015' },
    'crash-rate': { type: 'string', default: '0.08' },
  },
});
const seed = Number(values.seed);
const seconds = Number(values.seconds);
const producers = Number(values.producers);
if (!Number.isInteger(seed) || !(seconds > 0) || !Number.isInteger(producers) || producers < 1) {
  console.error('usage: npm run torture -- --seed <integer> --seconds <positive number> [--producers <n>]');
  process.exit(2);
}

export const violationCount = (r: TortureReport) =>
  r.lost +
  r.duplicated +
  r.offsetsHandedOutTwice +
  r.ackMismatches +
  r.reordered +
  r.holes +
  r.skipped +
  r.tornBatches +
  r.foreignValues +
  r.attempts.unexpected;

const report = await runTorture({
  seed,
  seconds,
  producers,
  faultRate: Number(values['fault-rate']),
  crashRate: Number(values['crash-rate']),
  log: (line) => console.error(line),
});
const { violations, ...figures } = report;
console.log(JSON.stringify(figures, null, 2));
if (violations.length > 0) console.log(`violations:\n  ${violations.join('\n  ')}`);
const bad = violationCount(report);
console.log(bad === 0 ? `OK: seed ${seed}, no violation` : `FAILED: seed ${seed}, ${bad} violation(s)`);
process.exit(bad === 0 ? 0 : 1);
