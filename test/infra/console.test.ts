import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureConsoleBuilt } from '../console/browser';
import { resourceNamed, resourcesOf, SYNTH_TIMEOUT_MS, type Synthesized, synthRunnel } from './synth';

/**
 * The console in AWS is served by the API function from its own bundle, on the API's
 * origin: no bucket, no distribution, no extra resource to secure or pay for.
 */
let synthesized: Synthesized;
let bundledConsole: string[] = [];
let bundledIndex = '';

beforeAll(() => {
  ensureConsoleBuilt();
  synthesized = synthRunnel(
    {},
    {
      onAssembly: (directory, template) => {
        const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'ApiFunction');
        const asset = join(directory, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
        const dir = join(asset, 'console');
        if (!existsSync(dir)) return;
        bundledIndex = readFileSync(join(dir, 'index.html'), 'utf8');
        bundledConsole = ['index.html', ...readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`)].sort();
      },
    },
  );
}, SYNTH_TIMEOUT_MS);

describe('the web console in AWS', () => {
  it("ships inside the API function's bundle, as built", () => {
    const built = ['index.html', ...readdirSync(join('console', 'dist', 'assets')).map((f) => `assets/${f}`)].sort();
    expect(bundledConsole).toEqual(built);
    expect(bundledIndex).toBe(readFileSync(join('console', 'dist', 'index.html'), 'utf8'));
  });

  it('adds no bucket or distribution of its own', () => {
    const { template } = synthesized;
    expect(resourcesOf(template, 'AWS::CloudFront::Distribution')).toEqual([]);
    expect(resourcesOf(template, 'AWS::S3::Bucket')).toHaveLength(1); // the segment bucket
  });

  it('passes cdk-nag with no new finding', () => {
    const unacknowledged = synthesized.report.pluginReports.flatMap((r) => r.violations);
    expect(unacknowledged).toEqual([]);
  });
});
