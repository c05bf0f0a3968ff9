import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_TARGET } from '../infra/constructs/bundling';
import { NODE_RUNTIME } from '../infra/constructs/runnel-function';

/** One Node.js major version everywhere: what the README asks for, `engines`, the npm scripts, the bundle and Lambda. */
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('the Node.js version', () => {
  it('is the same major in the README, engines, the node devDependency, the bundle target and the Lambda runtime', () => {
    const pkg = JSON.parse(read('package.json'));
    const major = Number(/^>=(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(Number(/(\d+)/.exec(pkg.devDependencies.node)?.[1])).toBe(major);
    expect(Number(/(\d+)/.exec(pkg.devDependencies['@types/node'])?.[1])).toBe(major);
    expect(NODE_TARGET).toBe(`node${major}`);
    expect(NODE_RUNTIME.name).toBe(`nodejs${major}.x`);
    expect(read('README.md')).toContain(`Requirements: Node.js ${major} or newer`);
    // The npm scripts run on it (the node devDependency puts it first on their PATH).
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(major);
  });
});
