import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConnection } from './connection';
import { UsageError } from './errors';
import { writeProfiles } from './profiles';

const setup = () => {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-connection-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'local-keys.json'), JSON.stringify({ operatorKey: 'local-op', devApiKey: 'local-dev' }));
  const env = { RUNNEL_CONFIG_DIR: join(dir, 'config'), RUNNEL_DATA_DIR: dataDir };
  return env;
};

describe('resolveConnection', () => {
  it('defaults to the local server and its keys', () => {
    expect(resolveConnection({}, setup())).toEqual({
      url: 'http://127.0.0.1:8080',
      apiKey: 'local-dev',
      operatorKey: 'local-op',
    });
  });

  it('takes flags over the environment over the profile', () => {
    const env = setup();
    writeProfiles({ current: 'p', profiles: { p: { url: 'https://p.example', apiKey: 'profile-key' } } }, env);
    expect(resolveConnection({}, env)).toMatchObject({ url: 'https://p.example', apiKey: 'profile-key' });
    expect(resolveConnection({}, { ...env, RUNNEL_API_KEY: 'env-key' })).toMatchObject({ apiKey: 'env-key' });
    expect(resolveConnection({ apiKey: 'flag-key' }, { ...env, RUNNEL_API_KEY: 'env-key' })).toMatchObject({
      apiKey: 'flag-key',
    });
  });

  it('never sends the local keys anywhere but a loopback URL', () => {
    const remote = resolveConnection({ url: 'https://api.example.com' }, setup());
    expect(remote.apiKey).toBeUndefined();
    expect(remote.operatorKey).toBeUndefined();
  });

  it('refuses an unknown profile and a URL that is not http(s)', () => {
    expect(() => resolveConnection({ profile: 'missing' }, setup())).toThrow(UsageError);
    expect(() => resolveConnection({ url: 'ftp://x' }, setup())).toThrow(UsageError);
  });
});
