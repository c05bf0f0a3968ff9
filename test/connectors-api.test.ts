import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createServices } from '#shared/app/create-app';
import { STRICT_DESTINATIONS } from '#shared/domain/connectors/destination';
import { fakeDns } from './connector-fixtures';
import { type Api, apiClient, expectProblem, OPERATOR_KEY, type Stack, startStack } from './harness';
import { tenantSnapshot } from './tenant-state';

/*
 * The connectors API against the real local stack: validation, quota, permissions,
 * secrets that never come back, and the SSRF checks made when a sink is configured.
 */

let stack: Stack;
let api: Api;
const logged: string[] = [];
const SECRET = 'Bearer s3cr3t-token-never-shown';

beforeAll(async () => {
  stack = await startStack({ log: (entry) => logged.push(JSON.stringify(entry)) });
  api = stack.api;
  for (const name of ['orders', 'clicks', 'dead-letters']) {
    expect((await api.post('/v1/topics', { name, partitions: 2 })).status).toBe(201);
  }
});
afterAll(() => stack.close());

const httpSink = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'http-sink',
  config: { topics: ['orders'], url: 'http://127.0.0.1:9/ingest', ...extra },
});

describe('create, read, change, delete', () => {
  it('creates a datagen connector with its defaults, lists, describes, pauses and deletes it', async () => {
    const created = await api.post('/v1/connectors', {
      name: 'orders-gen',
      kind: 'datagen',
      config: { topic: 'orders', template: 'orders' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      name: 'orders-gen',
      kind: 'datagen',
      state: 'running',
      config: { topic: 'orders', template: 'orders', recordsPerSecond: 1 },
      status: { records: 0 },
    });
    expect((await api.get('/v1/connectors/orders-gen')).body).toEqual(created.body);
    expect((await api.get('/v1/connectors')).body.connectors.map((c: { name: string }) => c.name)).toContain(
      'orders-gen',
    );
    const paused = await api.patch('/v1/connectors/orders-gen', { state: 'paused' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    const faster = await api.patch('/v1/connectors/orders-gen', { config: { recordsPerSecond: 20 }, state: 'running' });
    expect(faster.body).toMatchObject({ state: 'running', config: { recordsPerSecond: 20, template: 'orders' } });
    expectProblem(
      await api.patch('/v1/connectors/orders-gen', { config: { topic: 'clicks' } }),
      400,
      'invalid_request',
    );
    expect((await api.delete('/v1/connectors/orders-gen')).status).toBe(204);
    expectProblem(await api.get('/v1/connectors/orders-gen'), 404, 'connector_not_found');
    expectProblem(await api.delete('/v1/connectors/orders-gen'), 404, 'connector_not_found');
    expectProblem(await api.patch('/v1/connectors/orders-gen', { state: 'paused' }), 404, 'connector_not_found');
  });

  it('refuses an existing name with 409 connector_exists', async () => {
    expect((await api.post('/v1/connectors', httpSink('twice'))).status).toBe(201);
    expectProblem(await api.post('/v1/connectors', httpSink('twice')), 409, 'connector_exists');
    await api.delete('/v1/connectors/twice');
  });

  it('refuses bad input with a 4xx problem and stores nothing', async () => {
    const before = await tenantSnapshot(stack.emulators, stack.tenantId);
    const bad: [unknown, number, string][] = [
      [{ name: 'x', kind: 'ftp-sink', config: {} }, 400, 'invalid_request'],
      [{ name: 'bad/name', kind: 'datagen', config: { topic: 'orders', template: 'orders' } }, 400, 'invalid_request'],
      [{ name: 'x', kind: 'datagen', config: { topic: 'orders', template: 'weather' } }, 400, 'invalid_request'],
      [
        { name: 'x', kind: 'datagen', config: { topic: 'orders', template: 'orders', recordsPerSecond: 0 } },
        400,
        'invalid_request',
      ],
      [
        { name: 'x', kind: 'datagen', config: { topic: 'orders', template: 'orders', recordsPerSecond: 1001 } },
        400,
        'invalid_request',
      ],
      [
        { name: 'x', kind: 'datagen', config: { topic: 'orders', template: 'orders', extra: 1 } },
        400,
        'invalid_request',
      ],
      [{ name: 'x', kind: 'datagen', config: { template: 'orders' } }, 400, 'invalid_request'],
      [
        { name: 'x', kind: 'datagen', config: { topic: 'orders', template: 'orders' }, owner: 'b' },
        400,
        'invalid_request',
      ],
      [httpSink('x', { topics: [] }), 400, 'invalid_request'],
      [httpSink('x', { topics: ['orders', 'orders'] }), 400, 'invalid_request'],
      [httpSink('x', { url: 'not a url' }), 400, 'invalid_request'],
      [httpSink('x', { url: 'ftp://127.0.0.1/x' }), 400, 'invalid_request'],
      [httpSink('x', { batchMaxRecords: 1001 }), 400, 'invalid_request'],
      [httpSink('x', { maxRetries: -1 }), 400, 'invalid_request'],
      [httpSink('x', { headers: { 'Content-Type': 'text/plain' } }), 400, 'invalid_request'],
      [httpSink('x', { headers: { 'bad header': 'v' } }), 400, 'invalid_request'],
      [httpSink('x', { deadLetterTopic: 'orders' }), 400, 'invalid_request'],
      [httpSink('x', { topics: ['no-such-topic'] }), 404, 'topic_not_found'],
      [httpSink('x', { deadLetterTopic: 'no-such-topic' }), 404, 'topic_not_found'],
      [{ name: 'x', kind: 's3-sink', config: { topics: ['orders'], bucket: 'Bad_Bucket' } }, 400, 'invalid_request'],
      [
        { name: 'x', kind: 's3-sink', config: { topics: ['orders'], bucket: 'runnel-segments' } },
        400,
        'invalid_request',
      ],
      [
        { name: 'x', kind: 's3-sink', config: { topics: ['orders'], bucket: 'sink', roleArn: 'arn:aws:s3:::nope' } },
        400,
        'invalid_request',
      ],
      [
        { name: 'x', kind: 's3-sink', config: { topics: ['orders'], bucket: 'sink', flushMaxBytes: 10 } },
        400,
        'invalid_request',
      ],
      ['{"name": "x", "kind": ', 400, 'invalid_request'],
    ];
    for (const [body, status, code] of bad) {
      const res = await api.post('/v1/connectors', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.code, JSON.stringify(body)).toBe(code);
    }
    expect((await api.post('/v1/connectors', httpSink('patched'))).status).toBe(201);
    const snapshot = await tenantSnapshot(stack.emulators, stack.tenantId);
    for (const patch of [
      {},
      { state: 'failed' },
      { state: 'completed' },
      { config: { batchMaxRecords: 0 } },
      { config: { topics: null } },
      { config: { url: 'gopher://127.0.0.1' } },
      { kind: 'datagen' },
    ]) {
      expectProblem(await api.patch('/v1/connectors/patched', patch), 400, 'invalid_request');
    }
    expect(await tenantSnapshot(stack.emulators, stack.tenantId)).toEqual(snapshot);
    await api.delete('/v1/connectors/patched');
    expect(await tenantSnapshot(stack.emulators, stack.tenantId)).toEqual(before);
  });
});

describe('quota maxConnectors', () => {
  it('refuses the connector over the quota with 403 quota_exceeded, and admits one again after a delete', async () => {
    const operator = apiClient(stack.app, OPERATOR_KEY);
    const tenant = await operator.post('/admin/v1/tenants', { name: 'small', quotas: { maxConnectors: 2 } });
    expect(tenant.status).toBe(201);
    expect(tenant.body.quotas?.maxConnectors ?? 2).toBe(2);
    const small = apiClient(stack.app, tenant.body.apiKey);
    await small.post('/v1/topics', { name: 'orders', partitions: 1 });
    const gen = (name: string) => ({ name, kind: 'datagen', config: { topic: 'orders', template: 'users' } });
    expect((await small.post('/v1/connectors', gen('one'))).status).toBe(201);
    expect((await small.post('/v1/connectors', gen('two'))).status).toBe(201);
    const over = await small.post('/v1/connectors', gen('three'));
    expectProblem(over, 403, 'quota_exceeded');
    expect(over.body).toMatchObject({ quota: 'maxConnectors', limit: 2 });
    expect((await small.delete('/v1/connectors/one')).status).toBe(204);
    expect((await small.post('/v1/connectors', gen('three'))).status).toBe(201);
    expectProblem(
      await operator.patch(`/admin/v1/tenants/${tenant.body.tenantId}`, { quotas: { maxConnectors: -1 } }),
      400,
      'invalid_request',
    );
  });
});

describe('permissions', () => {
  const keyWith = async (permissions: { resource: string; actions: string[] }[]) => {
    const res = await api.post('/v1/keys', { name: 'scoped', permissions });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return apiClient(stack.app, res.body.apiKey);
  };

  it('needs manage on connector:<name>, and the topics’ own permissions', async () => {
    const noConnector = await keyWith([{ resource: 'topic:*', actions: ['produce', 'consume'] }]);
    expectProblem(
      await noConnector.post('/v1/connectors', {
        name: 'gen',
        kind: 'datagen',
        config: { topic: 'orders', template: 'orders' },
      }),
      403,
      'forbidden',
    );
    // A key that may manage connectors but not read a topic cannot ship that topic elsewhere.
    const connectorsOnly = await keyWith([{ resource: 'connector:*', actions: ['manage'] }]);
    expectProblem(await connectorsOnly.post('/v1/connectors', httpSink('exfil')), 403, 'forbidden');
    expectProblem(
      await connectorsOnly.post('/v1/connectors', {
        name: 'gen',
        kind: 'datagen',
        config: { topic: 'orders', template: 'orders' },
      }),
      403,
      'forbidden',
    );
    const scoped = await keyWith([
      { resource: 'connector:team-*', actions: ['manage'] },
      { resource: 'topic:orders', actions: ['consume'] },
      { resource: 'topic:dead-letters', actions: ['consume'] },
    ]);
    expect((await scoped.post('/v1/connectors', httpSink('team-hook'))).status).toBe(201);
    expectProblem(await scoped.post('/v1/connectors', httpSink('other-hook')), 403, 'forbidden');
    // Dead letters are produced: consume on the topic is not enough.
    expectProblem(
      await scoped.patch('/v1/connectors/team-hook', { config: { deadLetterTopic: 'dead-letters' } }),
      403,
      'forbidden',
    );
    expect((await api.post('/v1/connectors', httpSink('admin-hook'))).status).toBe(201);
    const listed = (await scoped.get('/v1/connectors')).body.connectors.map((c: { name: string }) => c.name);
    expect(listed).toEqual(['team-hook']);
    expectProblem(await scoped.get('/v1/connectors/admin-hook'), 403, 'forbidden');
    expectProblem(await scoped.delete('/v1/connectors/admin-hook'), 403, 'forbidden');
    expect((await scoped.delete('/v1/connectors/team-hook')).status).toBe(204);
    await api.delete('/v1/connectors/admin-hook');
  });

  it('lets a key grant connector permissions it holds, and refuses bad resource patterns', async () => {
    const created = await api.post('/v1/keys', {
      name: 'ops',
      permissions: [{ resource: 'connector:ops-*', actions: ['manage'] }],
    });
    expect(created.status).toBe(201);
    expectProblem(
      await api.post('/v1/keys', { name: 'bad', permissions: [{ resource: 'connectors:x', actions: ['manage'] }] }),
      400,
      'invalid_request',
    );
  });
});

describe('secrets in headers', () => {
  it('are never returned by create, describe, list or change, and never logged', async () => {
    const created = await api.post(
      '/v1/connectors',
      httpSink('secret-hook', { headers: { Authorization: SECRET, 'X-Team': 'billing' } }),
    );
    expect(created.status).toBe(201);
    expect(created.body.config.headers).toEqual({ Authorization: '<redacted>', 'X-Team': '<redacted>' });
    const answers = [
      created,
      await api.get('/v1/connectors/secret-hook'),
      await api.get('/v1/connectors'),
      // Sending the redacted form back keeps the stored value.
      await api.patch('/v1/connectors/secret-hook', {
        config: { headers: { Authorization: '<redacted>', 'X-Team': 'billing-2' } },
      }),
      await api.patch('/v1/connectors/secret-hook', {
        config: { headers: { Authorization: '<redacted>', 'X-Bad': '\u0001' } },
      }),
    ];
    for (const res of answers) expect(JSON.stringify(res.body)).not.toContain('s3cr3t');
    expect(logged.join('\n')).not.toContain('s3cr3t');
    const stored = await stack.deps.connectors.get(stack.tenantId, 'secret-hook');
    expect(stored?.config.headers).toEqual({ Authorization: SECRET, 'X-Team': 'billing-2' });
    await api.delete('/v1/connectors/secret-hook');
  });
});

describe('SSRF: destinations refused in AWS mode', () => {
  let strict: Api;
  beforeAll(() => {
    const deps = {
      ...stack.deps,
      connectorPolicy: {
        destinations: STRICT_DESTINATIONS,
        requireRoleArn: true,
        resolve: fakeDns({
          'hooks.example.com': ['93.184.216.34'],
          'internal.example.com': ['10.0.0.5'],
          'metadata.example.com': ['169.254.169.254'],
          'mixed.example.com': ['93.184.216.34', '192.168.1.10'],
          'v6-private.example.com': ['fd00::1'],
          localhost: ['127.0.0.1', '::1'],
        }),
      },
    };
    strict = apiClient(createApp(deps, createServices(deps)), stack.apiKey);
  });

  it('refuses private, loopback, link-local and non-https URLs, also by DNS; allows a public https host', async () => {
    const refused = [
      'http://hooks.example.com/ingest',
      'https://127.0.0.1/x',
      'https://127.1.2.3/x',
      'https://localhost/x',
      'https://[::1]/x',
      'https://10.1.2.3/x',
      'https://172.16.0.1/x',
      'https://192.168.0.1/x',
      'https://100.64.0.1/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/x',
      'https://[fd00::1]/x',
      'https://[::ffff:10.0.0.1]/x',
      'https://[64:ff9b::a00:1]/x',
      'https://0.0.0.0/x',
      'https://224.0.0.1/x',
      'https://internal.example.com/x',
      'https://metadata.example.com/x',
      'https://mixed.example.com/x',
      'https://v6-private.example.com/x',
      'https://nowhere.example.com/x',
      'https://user:pw@hooks.example.com/x',
    ];
    for (const url of refused) {
      const res = await strict.post('/v1/connectors', httpSink('ssrf', { url }));
      expect(res.status, url).toBe(400);
      expect(res.body.code, url).toBe('invalid_request');
    }
    const ok = await strict.post('/v1/connectors', httpSink('ssrf', { url: 'https://hooks.example.com/ingest' }));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expectProblem(
      await strict.patch('/v1/connectors/ssrf', { config: { url: 'https://internal.example.com/x' } }),
      400,
      'invalid_request',
    );
    await strict.delete('/v1/connectors/ssrf');
  });

  it('requires roleArn for an s3-sink in AWS mode', async () => {
    expectProblem(
      await strict.post('/v1/connectors', {
        name: 's3',
        kind: 's3-sink',
        config: { topics: ['orders'], bucket: 'my-sink' },
      }),
      400,
      'invalid_request',
    );
    const ok = await strict.post('/v1/connectors', {
      name: 's3',
      kind: 's3-sink',
      config: { topics: ['orders'], bucket: 'my-sink', roleArn: 'arn:aws:iam::123456789012:role/runnel-sink' },
    });
    expect(ok.status).toBe(201);
    await strict.delete('/v1/connectors/s3');
  });
});
