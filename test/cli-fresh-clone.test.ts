import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a new contributor does: clone, `npm ci`, `npx runnel --help`. The clone is of the
 * committed HEAD, so this proves the committed tree builds the bin on install (the
 * workspaces' prepare scripts) without anything left over from this checkout.
 */
const root = join(import.meta.dirname, '..');
const clone = mkdtempSync(join(tmpdir(), 'runnel-clone-'));

// Removing a full node_modules takes a while on a busy machine.
afterAll(() => rmSync(clone, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }), 300_000);

describe('a fresh clone', () => {
  it('runs npx runnel --help after npm ci', { timeout: 600_000 }, () => {
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { stdio: 'inherit' });
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: clone,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const help = execFileSync('npx', ['--no-install', 'runnel', '--help'], { cwd: clone, encoding: 'utf8' });
    expect(help).toContain('Usage: runnel');
    expect(help).toContain('consume');
  });
});
