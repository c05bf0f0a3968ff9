import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { RunnelError } from '#shared/domain/errors';
import type { AppEnv } from './env';

/**
 * The web console's Content-Security-Policy: scripts, styles and API calls from this
 * origin only (plus the stream endpoint's origin where streams have their own, as in
 * AWS), nothing inline, no plugins, no framing, and Trusted Types required, so a string
 * can never become HTML or script.
 */
export const consoleCsp = (streamOrigin?: string) =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${streamOrigin ? ` ${streamOrigin}` : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');

/** The policy when the console, the API and its streams share one origin (`npm start`). */
export const CONSOLE_CSP = consoleCsp();

/** Headers on every console response but the policy. */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface Asset {
  body: Uint8Array;
  gzip: Uint8Array;
  type: string;
}

/**
 * The console's built files, read once into memory (a few hundred KB) with their gzip
 * forms. `index.html` tells the app where streams are served when that is elsewhere.
 */
const loadAssets = async (dir: string, streamUrl: string | undefined): Promise<Map<string, Asset>> => {
  const assets = new Map<string, Asset>();
  const add = async (path: string) => {
    let body = new Uint8Array(await readFile(join(dir, path)));
    if (path === 'index.html' && streamUrl) {
      const meta = `<meta name="runnel-stream-url" content="${encodeURI(streamUrl).replace(/"/g, '%22')}" />`;
      body = new TextEncoder().encode(new TextDecoder().decode(body).replace('</head>', `  ${meta}\n  </head>`));
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    assets.set(path, { body, gzip: new Uint8Array(gzipSync(body, { level: 9 })), type });
  };
  await add('index.html');
  for (const name of await readdir(join(dir, 'assets')).catch(() => [] as string[])) {
    // Only the hashed, flat names the build writes; nothing else under the directory is served.
    if (/^[\w.-]+$/.test(name) && !name.endsWith('.map')) await add(`assets/${name}`);
  }
  return assets;
};

const respond = (
  asset: Asset,
  csp: string,
  acceptEncoding: string | undefined,
  cacheControl: string,
  head: boolean,
) => {
  const gzip = /\bgzip\b/.test(acceptEncoding ?? '');
  const body = gzip ? asset.gzip : asset.body;
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': csp,
    'Content-Type': asset.type,
    'Cache-Control': cacheControl,
    Vary: 'Accept-Encoding',
    'Content-Length': String(body.byteLength),
  };
  if (gzip) headers['Content-Encoding'] = 'gzip';
  return new Response(head ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
};

export interface ConsoleOptions {
  /** Directory of the build (`console/dist`). */
  dir: string;
  /** Base URL of the stream endpoint when it is not this origin (AWS: the streaming Function URL). */
  streamUrl?: string;
}

/**
 * Serves the built console under `/console`: hashed assets cached for a year, and
 * `index.html` for every other path so deep links such as
 * `/console/topics/orders/messages?partition=1&offset=100` open the app.
 */
export const serveConsole = (app: Hono<AppEnv>, options: ConsoleOptions) => {
  const handler = consoleHandler(options);
  app.get('/console', handler);
  app.get('/console/*', handler);
};

/** The handler of every `/console` path (see {@link serveConsole}). */
export const consoleHandler = ({ dir, streamUrl }: ConsoleOptions) => {
  const csp = consoleCsp(streamUrl ? new URL(streamUrl).origin : undefined);
  let loaded: Promise<Map<string, Asset>> | undefined;
  const assets = () => {
    loaded ??= loadAssets(dir, streamUrl).catch((error: unknown) => {
      loaded = undefined;
      throw new RunnelError('not_found', 'The web console is not built (npm run build:console).', {}, { cause: error });
    });
    return loaded;
  };
  const handler = async (c: Context<AppEnv>) => {
    const path = new URL(c.req.url).pathname.slice('/console'.length).replace(/^\//, '');
    const all = await assets();
    const head = c.req.method === 'HEAD';
    const acceptEncoding = c.req.header('Accept-Encoding');
    if (path.startsWith('assets/')) {
      const asset = all.get(path);
      if (!asset) throw new RunnelError('not_found', `No console asset ${path}.`);
      return respond(asset, csp, acceptEncoding, 'public, max-age=31536000, immutable', head);
    }
    const index = all.get('index.html');
    if (!index) throw new RunnelError('not_found', 'The web console is not built (npm run build:console).');
    return respond(index, csp, acceptEncoding, 'no-cache', head);
  };
  return handler;
};
