import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, contractOf, createApp } from '#shared/app/create-app';
import { OPENAPI_DOCUMENT_PATH, openApiDocumentText } from '../scripts/openapi-document';

/**
 * The OpenAPI document the app serves at /openapi.json, linted with Redocly's recommended
 * rules (the engine of `npx @redocly/cli lint`) and checked for what clients rely on.
 * The document is generated at build time from the routes' own definitions and checked
 * in (shared/app/openapi.json); the first test fails when it is stale.
 * Serving the document touches no storage, so the app gets no ports.
 */
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }>; headers?: object }>;
}
let doc: { paths: Record<string, Record<string, Operation>>; security: unknown; servers: { url: string }[] };
let source: string;
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, path, method, op })),
  );

const app = createApp({ operatorKeyHash: undefined, log: () => {} } as unknown as AppDeps);
beforeAll(async () => {
  const res = await app.request('http://127.0.0.1:8080/openapi.json');
  expect(res.status).toBe(200);
  source = await res.text();
  doc = JSON.parse(source);
});

describe('OpenAPI document', () => {
  it('is the one generated from the routes (run `npm run openapi` after changing a route or schema)', async () => {
    expect(readFileSync(OPENAPI_DOCUMENT_PATH, 'utf8')).toBe(await openApiDocumentText());
  });

  it('describes exactly the routes the app answers, with their methods (routes loaded on first use included)', async () => {
    const documented = operations().map(({ id }) => id);
    const registered = app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*') && r.path !== '/healthz' && r.path !== '/openapi.json')
      .map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`);
    expect([...new Set(registered)].sort()).toEqual([...documented].sort());
    expect((await contractOf(app)).map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual(
      [...documented].sort(),
    );
  });

  it('passes Redocly lint (recommended rules) with no errors and no warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    const summary = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`);
    expect(summary).toEqual([]);
  });

  it('names, summarises and tags every operation', () => {
    expect(operations().length).toBeGreaterThanOrEqual(24);
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { id, op } of operations()) {
      expect(op.operationId, id).toMatch(/^[a-z][a-zA-Z]+$/);
      expect(op.summary, id).toBeTruthy();
      expect(op.tags?.length, id).toBe(1);
    }
  });

  it('describes every 4xx and 5xx as a problem, and 429/503 with Retry-After', () => {
    for (const { id, op } of operations()) {
      const statuses = Object.keys(op.responses);
      for (const status of ['400', '401', '403', '404', '429', '500', '503']) expect(statuses, id).toContain(status);
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        expect(response.content?.['application/problem+json']?.schema?.$ref, `${id} ${status}`).toBe(
          '#/components/schemas/Problem',
        );
        if (status === '429' || status === '503')
          expect(response.headers, `${id} ${status}`).toHaveProperty('Retry-After');
      }
    }
    const throttled = operations()
      .filter(({ op }) => JSON.stringify(op.responses['429']).includes('byte rate'))
      .map(({ id }) => id);
    expect(throttled.sort()).toEqual([
      'GET /v1/groups/{group}/members/{memberId}/records',
      'GET /v1/topics/{topic}/partitions/{partition}/records',
      'GET /v1/topics/{topic}/records',
      'POST /v1/topics/{topic}/records',
    ]);
  });

  it('documents the Idempotency-Key header of produce', () => {
    const produce = doc.paths['/v1/topics/{topic}/records']?.post;
    expect(produce?.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'Idempotency-Key' }));
  });

  it('says which routes take the operator key, and which a browser token in the query', () => {
    expect(doc.security).toEqual([{ apiKey: [] }]);
    for (const { id, path, op } of operations()) {
      if (path.startsWith('/admin/')) expect(op.security, id).toEqual([{ operatorKey: [] }]);
      // Stream routes also take a browser token in ?access_token= (EventSource sends no headers).
      else if (op.responses['200']?.content?.['text/event-stream'])
        expect(op.security, id).toEqual([{ apiKey: [] }, { accessToken: [] }]);
      else expect(op.security, id).toBeUndefined();
    }
    expect(doc.servers).toEqual([{ url: 'http://127.0.0.1:8080' }]);
  });
});
