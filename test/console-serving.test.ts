import { join } from 'node:path';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleCsp, serveConsole } from '#shared/app/console';
import type { AppEnv } from '#shared/app/env';
import { CONSOLE_DIST, ensureConsoleBuilt } from './console/browser';

/** The console as the API function serves it in AWS, where streams have an origin of their own. */
beforeAll(() => ensureConsoleBuilt());

const STREAM_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/';

describe('console serving', () => {
  it('allows the stream origin, and only it, besides its own, and tells the app where streams are', async () => {
    const app = new Hono<AppEnv>();
    serveConsole(app, { dir: join(process.cwd(), CONSOLE_DIST), streamUrl: STREAM_URL });
    const response = await app.request('/console/groups/billing');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(consoleCsp('https://abc123.lambda-url.eu-west-1.on.aws'));
    expect(csp).toContain("connect-src 'self' https://abc123.lambda-url.eu-west-1.on.aws;");
    expect(await response.text()).toContain(`<meta name="runnel-stream-url" content="${STREAM_URL}" />`);
  });

  it('without a stream URL, connects to its own origin only and adds no meta', async () => {
    const app = new Hono<AppEnv>();
    serveConsole(app, { dir: join(process.cwd(), CONSOLE_DIST) });
    const response = await app.request('/console');
    expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("connect-src 'self';");
    expect(CONSOLE_CSP).toContain("script-src 'self';");
    expect(CONSOLE_CSP).not.toContain('unsafe');
    expect(await response.text()).not.toContain('runnel-stream-url');
  });
});
