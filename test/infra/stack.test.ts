import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDefinitions } from '#shared/adapters/dynamodb/tables';
import { CORS_POLICY } from '#shared/app/cors-policy';
import { RETENTION_CLASSES } from '#shared/domain/retention';
import { ACCESS_LOG_FIELDS } from '../../infra/constructs/http-api';
import { STREAM_END_MARGIN, STREAM_FUNCTION_TIMEOUT } from '../../infra/constructs/stream-endpoint';
import { ensureConsoleBuilt } from '../console/browser';
import { resourceNamed, resourcesOf, SYNTH_TIMEOUT_MS, type Synthesized, synthRunnel } from './synth';

/** Actions AWS offers no resource-level permissions for, so "*" is the only possible resource. */
const STAR_ONLY_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

const FULL_CONTEXT = {
  stageName: 'staging',
  frontDoor: 'httpApi',
  domainName: 'streams.example.com',
  certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666',
  corsOrigins: 'https://console.example.com,http://localhost:5173',
  alarmEmail: 'ops@example.com',
  tracing: 'true',
  logRetentionDays: '90',
  throttleRateLimit: '50',
  throttleBurstLimit: '100',
};

/** The default front door: the API function's Function URL. */
let byDefault: Synthesized;
/** API Gateway as the front door, with every other value at its default. */
let gateway: Synthesized;
/** API Gateway with a custom domain, CORS, tracing and the rest configured. */
let full: Synthesized;
/** The Function URL with CORS origins and a concurrency cap. */
let urlConfigured: Synthesized;
/** The web console's files found in the API function's bundled asset. */
let bundledConsole: { files: string[]; index: string } = { files: [], index: '' };
/** The OpenAPI document found beside the API function's bundle. */
let bundledOpenApi = '';
/** What the API function's bundled asset holds and answers (the default synth's; see inspectApiBundle). */
let apiBundle: ReturnType<typeof inspectApiBundle> | undefined;
beforeAll(() => {
  ensureConsoleBuilt();
  byDefault = synthRunnel(
    {},
    {
      onAssembly: (directory, template) => {
        bundledConsole = consoleInAsset(directory, template);
        apiBundle = inspectApiBundle(apiAssetDir(directory, template));
        const file = join(apiAssetDir(directory, template), 'openapi.json');
        bundledOpenApi = existsSync(file) ? readFileSync(file, 'utf8') : '';
      },
    },
  );
  // The default synth bundles the functions for real; these need only the template.
  gateway = synthRunnel({ frontDoor: 'httpApi' }, { bundle: false });
  full = synthRunnel(FULL_CONTEXT, { bundle: false });
  urlConfigured = synthRunnel(
    { corsOrigins: FULL_CONTEXT.corsOrigins, apiReservedConcurrency: '200' },
    { bundle: false },
  );
}, SYNTH_TIMEOUT_MS);

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every statement of the policies attached to the role of the function with this logical id prefix. */
const statementsOf = (template: Template, functionPrefix: string) => {
  const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', functionPrefix);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  const [, role] = resourceNamed(template, 'AWS::IAM::Role', roleId);
  expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
  expect(role.Properties.Policies ?? []).toEqual([]);
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
};
const actionsOf = (statements: any[]) => statements.flatMap((s) => asArray(s.Action as string | string[])).sort();
const logicalId = (template: Template, type: string, prefix: string) => resourceNamed(template, type, prefix)[0];

describe('DynamoDB tables', () => {
  it.each([
    ['metadata', 'StorageMetadataTable'],
    ['log', 'StorageLogTable'],
  ] as const)('the %s table has the key schema of tables.ts', (which, prefix) => {
    const [, table] = resourceNamed(byDefault.template, 'AWS::DynamoDB::Table', prefix);
    const definition = tableDefinitions({ metadata: 'metadata', log: 'log' }).find((d) => d.TableName === which);
    expect(table.Properties.KeySchema).toEqual(definition?.KeySchema);
    expect(new Set(table.Properties.AttributeDefinitions)).toEqual(new Set(definition?.AttributeDefinitions));
  });

  it('are on-demand, with point-in-time recovery, deletion protection and encryption, and retained', () => {
    const tables = resourcesOf(byDefault.template, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(2);
    for (const [, table] of tables) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      });
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });
});

describe('segment bucket', () => {
  it('blocks public access, is encrypted, unversioned and retained', () => {
    const [, bucket] = resourceNamed(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  it('denies every request that is not TLS 1.2 or later', () => {
    const bucketId = logicalId(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    const [, policy] = resourceNamed(byDefault.template, 'AWS::S3::BucketPolicy', 'StorageSegmentBucketPolicy');
    expect(policy.Properties.Bucket).toEqual({ Ref: bucketId });
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    const denyPlain = statements.find((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(denyPlain).toMatchObject({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' } });
    const denyOldTls = statements.find((s) => s.Condition?.NumericLessThan?.['s3:TlsVersion'] !== undefined);
    expect(denyOldTls).toMatchObject({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } });
    // Nothing is allowed by the bucket policy: access comes from the functions' roles only.
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
  });

  it('expires each retention class after its days, keeps forever/, and aborts stale multipart uploads', () => {
    const [, bucket] = resourceNamed(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    const rules = bucket.Properties.LifecycleConfiguration.Rules as any[];
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined);
    expect(expiring).toHaveLength(RETENTION_CLASSES.length);
    for (const c of RETENTION_CLASSES) {
      expect(expiring).toContainEqual(
        expect.objectContaining({ Prefix: `${c.name}/`, ExpirationInDays: c.days, Status: 'Enabled' }),
      );
    }
    expect(rules.filter((r) => r.Prefix === undefined && r.ExpirationInDays !== undefined)).toEqual([]);
    expect(rules.some((r) => String(r.Prefix ?? '').startsWith('forever'))).toBe(false);
    expect(rules).toContainEqual(
      expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
    );
  });
});

describe('functions', () => {
  it.each(['ApiFunction', 'MaintenanceFunction'])('%s runs Node.js 22 on arm64 from an ESM bundle', (prefix) => {
    const [, fn] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', prefix);
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref;
    expect(byDefault.template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
  });

  it('the API function gets names in its environment, never a secret value', () => {
    const [, fn] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', 'ApiFunction');
    const env = fn.Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([
      'NODE_OPTIONS',
      'RUNNEL_LOG_TABLE',
      'RUNNEL_METADATA_TABLE',
      'RUNNEL_METRICS_NAMESPACE',
      'RUNNEL_OPERATOR_SECRET_ARN',
      'RUNNEL_SEGMENT_BUCKET',
      'RUNNEL_SERVICE_NAME',
      'RUNNEL_STREAM_URL',
    ]);
    const secretId = logicalId(byDefault.template, 'AWS::SecretsManager::Secret', 'OperatorKey');
    expect(env.RUNNEL_OPERATOR_SECRET_ARN).toEqual({ Ref: secretId });
    expect(env.RUNNEL_METADATA_TABLE).toEqual({
      Ref: logicalId(byDefault.template, 'AWS::DynamoDB::Table', 'StorageMetadataTable'),
    });
    expect(env.RUNNEL_SEGMENT_BUCKET).toEqual({
      Ref: logicalId(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket'),
    });
  });

  it('the operator key is generated by Secrets Manager', () => {
    byDefault.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48 }),
      SecretString: Match.absent(),
    });
  });

  it('tracing is off by default and active when asked for', () => {
    for (const prefix of ['ApiFunction', 'MaintenanceFunction']) {
      const [, off] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', prefix);
      expect(off.Properties.TracingConfig?.Mode ?? 'PassThrough').toBe('PassThrough');
      const [, on] = resourceNamed(full.template, 'AWS::Lambda::Function', prefix);
      expect(on.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('maintenance runs every 5 minutes, one run at a time, without retries', () => {
    const fnId = logicalId(byDefault.template, 'AWS::Lambda::Function', 'MaintenanceFunction');
    const [, rule] = resourceNamed(byDefault.template, 'AWS::Events::Rule', 'MaintenanceSchedule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
    ]);
    byDefault.template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    const [, fn] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', 'MaintenanceFunction');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Properties.Timeout).toBeLessThan(300);
  });
});

describe('IAM', () => {
  it('no statement uses a wildcard action, nor "*" resources except where AWS has no resource-level permission', () => {
    for (const { template } of [byDefault, gateway, full, urlConfigured]) {
      for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
        for (const s of policy.Properties.PolicyDocument.Statement as any[]) {
          expect(s.Effect).toBe('Allow');
          for (const action of asArray<string>(s.Action)) expect(action).not.toMatch(/\*/);
          if (asArray(s.Resource).includes('*')) {
            for (const action of asArray<string>(s.Action)) expect(STAR_ONLY_ACTIONS.has(action)).toBe(true);
          }
        }
      }
    }
  });

  it('the API function may do exactly what its code does, on its own tables, bucket objects and secret', () => {
    const t = byDefault.template;
    const statements = statementsOf(t, 'ApiFunction');
    expect(actionsOf(statements)).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    const tableIds = ['StorageMetadataTable', 'StorageLogTable'].map((p) => logicalId(t, 'AWS::DynamoDB::Table', p));
    const bucketId = logicalId(t, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    for (const s of statements) {
      const service = asArray<string>(s.Action)[0]?.split(':')[0];
      const resources = asArray(s.Resource);
      if (service === 'dynamodb') {
        expect(resources).toHaveLength(1);
        expect(tableIds).toContain(resources[0]['Fn::GetAtt'][0]);
      } else if (service === 's3') {
        expect(resources).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }]);
      } else if (service === 'secretsmanager') {
        expect(resources).toEqual([{ Ref: logicalId(t, 'AWS::SecretsManager::Secret', 'OperatorKey') }]);
      } else if (service === 'logs') {
        const logGroupId = resources[0]['Fn::GetAtt'][0];
        expect(logGroupId).toMatch(/^ApiFunctionLogs/);
      } else {
        throw new Error(`unexpected statement ${JSON.stringify(s)}`);
      }
    }
  });

  it('the maintenance function may read and write both tables and the objects, but not read the secret', () => {
    const statements = statementsOf(byDefault.template, 'MaintenanceFunction');
    const actions = new Set(actionsOf(statements));
    for (const a of ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 's3:DeleteObject', 's3:ListBucket']) {
      expect(actions.has(a)).toBe(true);
    }
    expect([...actions].filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    const bucketId = logicalId(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    const list = statements.find((s) => asArray(s.Action).includes('s3:ListBucket'));
    expect(list.Resource).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
  });

  it('X-Ray is allowed only when tracing is on', () => {
    expect(actionsOf(statementsOf(byDefault.template, 'ApiFunction')).filter((a) => a.startsWith('xray:'))).toEqual([]);
    expect(actionsOf(statementsOf(full.template, 'ApiFunction')).filter((a) => a.startsWith('xray:'))).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});

describe('the default front door: the API function URL', () => {
  it('is a buffered Function URL on the API function, authenticated by the app, with no API Gateway', () => {
    const t = byDefault.template;
    const fnId = logicalId(t, 'AWS::Lambda::Function', 'ApiFunction');
    const [urlId] = resourceNamed(t, 'AWS::Lambda::Url', 'ApiUrl');
    t.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
    // Auth NONE needs a public invoke permission, for the URL only.
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      FunctionUrlAuthType: 'NONE',
    });
    for (const [, permission] of resourcesOf(t, 'AWS::Lambda::Permission')) {
      if (permission.Properties.Principal !== '*') continue;
      const viaUrl =
        permission.Properties.FunctionUrlAuthType === 'NONE' || permission.Properties.InvokedViaFunctionUrl === true;
      expect(viaUrl, JSON.stringify(permission.Properties)).toBe(true);
    }
    for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Stage', 'AWS::ApiGatewayV2::DomainName']) {
      t.resourceCountIs(type, 0);
    }
    const outputs = t.toJSON().Outputs;
    expect(outputs.ApiUrl.Value).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    expect(outputs.ApiUrl.Description).toContain('Function URL');
    expect(JSON.stringify(outputs.ConsoleUrl.Value)).toContain(urlId);
  });

  it('has no CORS unless configured, then the policy the app applies', () => {
    const [, plain] = resourceNamed(byDefault.template, 'AWS::Lambda::Url', 'ApiUrl');
    expect(plain.Properties.Cors).toBeUndefined();
    const [, url] = resourceNamed(urlConfigured.template, 'AWS::Lambda::Url', 'ApiUrl');
    expect(url.Properties.Cors).toEqual({
      AllowOrigins: FULL_CONTEXT.corsOrigins.split(','),
      AllowMethods: [...CORS_POLICY.allowMethods],
      AllowHeaders: [...CORS_POLICY.allowHeaders],
      ExposeHeaders: [...CORS_POLICY.exposeHeaders],
      MaxAge: CORS_POLICY.maxAgeSeconds,
    });
  });

  it('caps the API function at the configured concurrency, and at nothing by default', () => {
    const [, plain] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', 'ApiFunction');
    expect(plain.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const [, capped] = resourceNamed(urlConfigured.template, 'AWS::Lambda::Function', 'ApiFunction');
    expect(capped.Properties.ReservedConcurrentExecutions).toBe(200);
  });

  it('ships the generated OpenAPI document beside the API bundle', () => {
    expect(bundledOpenApi).toBe(readFileSync(join('shared', 'app', 'openapi.json'), 'utf8'));
  });

  it('ships every chunk the API bundle imports, and a start loads none of the routes kept for first use', () => {
    if (!apiBundle) throw new Error('the API bundle was not inspected');
    const { atStart, files, startCode } = apiBundle;
    expect(files).toBeGreaterThan(atStart);
    // Operation ids appear only in the routes' own code; the SSRF checks' address parser only with connectors;
    // `HEARTBEAT#` only in the group store, `retry: ` only in the SSE framing of streams.
    const onStart = ['"describeTopic"', '"produce"', '"fetch"'];
    const firstUse = [
      '"createTopic"',
      'An earlier attempt of this request is still running',
      '"createKey"',
      '"createToken"',
      '"createConnector"',
      '"createTenant"',
      'ipaddr: ',
      '"joinGroup"',
      'HEARTBEAT#',
      '"streamTopic"',
      'retry: ',
    ];
    expect(onStart.filter((text) => startCode.includes(text))).toEqual(onStart);
    expect(firstUse.filter((text) => startCode.includes(text))).toEqual([]);
  });

  it('serves routes kept for first use from the bundle: their chunks load and bad input gets the same problem', () => {
    const [invalid, wrongMethod, consolePage] = apiBundle?.answers ?? [];
    expect(invalid?.status).toBe(400);
    expect(invalid?.type).toContain('application/problem+json');
    expect(JSON.parse(invalid?.body ?? '{}')).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(wrongMethod?.status).toBe(405);
    expect(consolePage?.status).toBe(200);
    expect(consolePage?.type).toContain('text/html');
  });
});

describe('the opt-in front door: API Gateway HTTP API', () => {
  it('routes everything to the API function with payload 2.0 and throttles the default stage', () => {
    const t = gateway.template;
    const fnId = logicalId(t, 'AWS::Lambda::Function', 'ApiFunction');
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
    });
    full.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('writes JSON access logs without query strings or headers', () => {
    const [, stage] = resourceNamed(gateway.template, 'AWS::ApiGatewayV2::Stage', 'HttpDefaultStage');
    const format = stage.Properties.AccessLogSettings.Format as string;
    expect(JSON.parse(format)).toEqual(ACCESS_LOG_FIELDS);
    expect(format).not.toMatch(/header|querystring|authoriz/i);
    const logGroupId = stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0];
    expect(gateway.template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
  });

  it('has no CORS and no custom domain unless configured', () => {
    gateway.template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
    gateway.template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
  });

  it('replaces the Function URL: the API function has no URL of its own, and ApiUrl is the stage URL', () => {
    const apiId = logicalId(gateway.template, 'AWS::Lambda::Function', 'ApiFunction');
    const urls = resourcesOf(gateway.template, 'AWS::Lambda::Url').filter(
      ([, u]) => u.Properties.TargetFunctionArn['Fn::GetAtt'][0] === apiId,
    );
    expect(urls).toEqual([]);
    expect(JSON.stringify(gateway.template.toJSON().Outputs.ApiUrl.Value)).toContain('execute-api');
  });

  it('configures API Gateway with the same CORS policy the app applies', () => {
    const api = Object.values(full.template.findResources('AWS::ApiGatewayV2::Api'))[0];
    const cors = api?.Properties?.CorsConfiguration;
    expect(cors?.AllowMethods).toEqual([...CORS_POLICY.allowMethods]);
    expect(cors?.AllowHeaders).toEqual(CORS_POLICY.allowHeaders.map((h) => h.toLowerCase()));
    expect(cors?.ExposeHeaders).toEqual(CORS_POLICY.exposeHeaders.map((h) => h.toLowerCase()));
    expect(cors?.ExposeHeaders).toEqual(expect.arrayContaining(['location', 'retry-after']));
    expect(cors?.MaxAge).toBe(CORS_POLICY.maxAgeSeconds);
  });

  it('with a custom domain, maps it and turns the execute-api endpoint off; CORS allows the given origins', () => {
    const t = full.template;
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: FULL_CONTEXT.domainName,
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: FULL_CONTEXT.certificateArn })],
    });
    t.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    expect(Object.keys(t.findOutputs('DomainTarget'))).toEqual(['DomainTarget']);
    expect(Object.keys(gateway.template.findOutputs('DomainTarget'))).toEqual([]);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      DisableExecuteApiEndpoint: true,
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['https://console.example.com', 'http://localhost:5173'],
        AllowHeaders: Match.arrayWith(['authorization', 'content-type']),
      }),
    });
  });
});

describe('observability', () => {
  const ALARMS = [
    'Api5xxRate',
    'ApiThrottled',
    'ApiFunctionThrottles',
    'StreamFunctionThrottles',
    'ApiFunctionErrors',
    'MetadataTableThrottles',
    'MetadataTableSystemErrors',
    'LogTableThrottles',
    'LogTableSystemErrors',
    'BucketServerErrors',
    'MaintenanceErrors',
    'MaintenanceNotRunning',
  ];

  /** Stage throttling is API Gateway's: the Function URL has none to alarm on. */
  const GATEWAY_ONLY = ['ApiThrottled'];

  it.each([
    ['the Function URL', () => byDefault, ALARMS.filter((a) => !GATEWAY_ONLY.includes(a))],
    ['API Gateway', () => gateway, ALARMS],
  ] as const)('behind %s, every alarm exists and notifies the alarm topic', (_, synthesized, names) => {
    const t = synthesized().template;
    const topicId = logicalId(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const alarms = resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([id]) => id.startsWith('Monitoring'));
    expect(alarms).toHaveLength(names.length);
    for (const name of names) {
      const [, alarm] = resourceNamed(t, 'AWS::CloudWatch::Alarm', `Monitoring${name}`);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.AlarmDescription).toContain('docs/deploy.md');
    }
  });

  it("computes the 5xx rate from the front door's own metrics", () => {
    const metricsOf = (t: Template) => {
      const [, alarm] = resourceNamed(t, 'AWS::CloudWatch::Alarm', 'MonitoringApi5xxRate');
      return (alarm.Properties.Metrics as any[])
        .filter((m) => m.MetricStat)
        .map((m) => ({ namespace: m.MetricStat.Metric.Namespace, name: m.MetricStat.Metric.MetricName }))
        .sort((a, b) => a.name.localeCompare(b.name));
    };
    expect(metricsOf(byDefault.template)).toEqual([
      { namespace: 'AWS/Lambda', name: 'Url5xxCount' },
      { namespace: 'AWS/Lambda', name: 'UrlRequestCount' },
    ]);
    expect(metricsOf(gateway.template)).toEqual([
      { namespace: 'AWS/ApiGateway', name: '5xx' },
      { namespace: 'AWS/ApiGateway', name: 'Count' },
    ]);
    const apiId = logicalId(byDefault.template, 'AWS::Lambda::Function', 'ApiFunction');
    const [, alarm] = resourceNamed(byDefault.template, 'AWS::CloudWatch::Alarm', 'MonitoringApi5xxRate');
    for (const m of (alarm.Properties.Metrics as any[]).filter((x) => x.MetricStat)) {
      expect(m.MetricStat.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: apiId } }]);
    }
  });

  it('every alarm has its section in docs/deploy.md, where its description points', () => {
    const doc = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    for (const name of ALARMS) expect(doc).toContain(`\n#### ${name.toLowerCase()}\n`);
  });

  it('alarms watch the right functions', () => {
    const t = byDefault.template;
    const dimensionOf = (name: string) =>
      resourceNamed(t, 'AWS::CloudWatch::Alarm', `Monitoring${name}`)[1].Properties.Dimensions;
    const apiId = logicalId(t, 'AWS::Lambda::Function', 'ApiFunction');
    const maintenanceId = logicalId(t, 'AWS::Lambda::Function', 'MaintenanceFunction');
    expect(dimensionOf('ApiFunctionErrors')).toEqual([{ Name: 'FunctionName', Value: { Ref: apiId } }]);
    expect(dimensionOf('MaintenanceErrors')).toEqual([{ Name: 'FunctionName', Value: { Ref: maintenanceId } }]);
    const streamId = logicalId(t, 'AWS::Lambda::Function', 'StreamFunction');
    expect(dimensionOf('StreamFunctionThrottles')).toEqual([{ Name: 'FunctionName', Value: { Ref: streamId } }]);
    const [, notRunning] = resourceNamed(t, 'AWS::CloudWatch::Alarm', 'MonitoringMaintenanceNotRunning');
    expect(notRunning.Properties).toMatchObject({
      MetricName: 'Invocations',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('counts gateway throttling from the access log (API Gateway only)', () => {
    byDefault.template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    const [, stage] = resourceNamed(gateway.template, 'AWS::ApiGatewayV2::Stage', 'HttpDefaultStage');
    gateway.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: stage.Properties.AccessLogSettings.DestinationArn['Fn::GetAtt'][0] },
      FilterPattern: Match.stringLikeRegexp('\\$\\.status = "429"'),
      MetricTransformations: [Match.objectLike({ MetricName: 'GatewayThrottled', MetricNamespace: 'Runnel' })],
    });
  });

  it('e-mails alarms only when an address is given', () => {
    byDefault.template.resourceCountIs('AWS::SNS::Subscription', 0);
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: FULL_CONTEXT.alarmEmail,
    });
  });

  it('has a dashboard', () => {
    byDefault.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'runnel-prod' });
    full.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'runnel-staging' });
  });

  it('keeps every log for the configured retention', () => {
    for (const [{ template }, days, count] of [
      [byDefault, 30, 4],
      [full, 90, 5],
    ] as const) {
      const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
      // The API, stream, maintenance and connector functions' logs, and API Gateway's access log.
      expect(groups).toHaveLength(count);
      for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(days);
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing that is not acknowledged', () => {
    for (const { report } of [byDefault, gateway, full, urlConfigured]) {
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      expect(nag?.violations).toEqual([]);
      expect(nag?.conclusion).toBe('success');
    }
  });

  it('acknowledges only the findings argued in infra/nag.ts, each with a reason', () => {
    const acknowledged = (s: Synthesized) => {
      const nag = s.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
      for (const finding of nag?.suppressedViolations ?? []) expect(finding.reason.length).toBeGreaterThan(80);
      return [...new Set((nag?.suppressedViolations ?? []).map((f) => f.acknowledgedId))].sort();
    };
    const bucketId = logicalId(byDefault.template, 'AWS::S3::Bucket', 'StorageSegmentBucket');
    const expected = [
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      'AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:iam::*:role/*]',
      'AwsSolutions::AwsSolutions-L1',
      'AwsSolutions::AwsSolutions-S1',
      'AwsSolutions::AwsSolutions-SMG4',
    ];
    expect(acknowledged(byDefault)).toEqual(expected);
    // The authorizer finding exists only where there is an API Gateway route.
    expect(acknowledged(gateway)).toEqual([...expected, 'AwsSolutions::AwsSolutions-APIG4'].sort());
    expect(acknowledged(full)).toEqual(
      [...expected, 'AwsSolutions::AwsSolutions-APIG4', 'AwsSolutions::AwsSolutions-IAM5[Resource::*]'].sort(),
    );
  });
});

describe('the streaming front door (Server-Sent Events)', () => {
  it('is a Function URL in response-streaming mode on the stream function, authenticated by the app', () => {
    const t = byDefault.template;
    const fnId = logicalId(t, 'AWS::Lambda::Function', 'StreamFunction');
    t.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'RESPONSE_STREAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
    });
    // Auth NONE needs a public invoke permission for the URL, and nothing broader.
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      FunctionUrlAuthType: 'NONE',
    });
    expect(t.findOutputs('StreamUrl')).toHaveProperty('StreamUrl');
  });

  it('ends every stream a minute before the function times out, and reserves its concurrency', () => {
    const [, fn] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', 'StreamFunction');
    const timeoutMs = fn.Properties.Timeout * 1000;
    const maxMs = Number(fn.Properties.Environment.Variables.RUNNEL_STREAM_MAX_MS);
    expect(timeoutMs).toBe(STREAM_FUNCTION_TIMEOUT.toMilliseconds());
    expect(maxMs).toBe(timeoutMs - STREAM_END_MARGIN.toMilliseconds());
    // The contract: a server may end a healthy stream after at least 60 s.
    expect(maxMs).toBeGreaterThanOrEqual(60_000);
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(100);
    expect(fn.Properties.Environment.Variables.RUNNEL_OPERATOR_SECRET_ARN).toBeUndefined();
  });

  it('may read the log and bucket but not write them, and never read the operator secret', () => {
    const t = byDefault.template;
    const statements = statementsOf(t, 'StreamFunction');
    const logTable = logicalId(t, 'AWS::DynamoDB::Table', 'StorageLogTable');
    const onLog = statements.filter((s) => asArray(s.Resource).some((r: any) => r['Fn::GetAtt']?.[0] === logTable));
    expect(actionsOf(onLog)).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(actionsOf(statements)).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
      ].sort(),
    );
  });

  it("behind API Gateway, allows GET with Last-Event-ID from the API's own origin (its web console) and the configured origins only", () => {
    const [urlId, gatewayUrl] = resourceNamed(gateway.template, 'AWS::Lambda::Url', 'StreamFunction');
    const apiId = logicalId(gateway.template, 'AWS::ApiGatewayV2::Api', 'HttpApi');
    expect(gatewayUrl.Properties.Cors.AllowOrigins).toEqual([{ 'Fn::GetAtt': [apiId, 'ApiEndpoint'] }]);
    // The API function tells the console where the streams are (its CSP and live tail).
    const [, api] = resourceNamed(gateway.template, 'AWS::Lambda::Function', 'ApiFunction');
    expect(api.Properties.Environment.Variables.RUNNEL_STREAM_URL).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    const [, url] = resourceNamed(full.template, 'AWS::Lambda::Url', 'StreamFunction');
    expect(url.Properties.Cors).toMatchObject({
      AllowOrigins: [...FULL_CONTEXT.corsOrigins.split(','), `https://${FULL_CONTEXT.domainName}`],
      AllowMethods: ['GET'],
      AllowHeaders: ['Authorization', 'Last-Event-ID'],
    });
    // Keys and tokens never travel in cookies.
    expect(url.Properties.Cors.AllowCredentials).toBeUndefined();
  });

  it('behind the Function URL, allows GET from any origin, never with credentials', () => {
    // The API's Function URL cannot be named in the stream URL's CORS: the API function's
    // environment names the stream URL (a cycle). Streams carry their key or token explicitly.
    for (const { template } of [byDefault, urlConfigured]) {
      const [urlId, url] = resourceNamed(template, 'AWS::Lambda::Url', 'StreamFunction');
      expect(url.Properties.Cors).toMatchObject({ AllowOrigins: ['*'], AllowMethods: ['GET'] });
      expect(url.Properties.Cors.AllowCredentials).toBeUndefined();
      const [, api] = resourceNamed(template, 'AWS::Lambda::Function', 'ApiFunction');
      expect(api.Properties.Environment.Variables.RUNNEL_STREAM_URL).toEqual({
        'Fn::GetAtt': [urlId, 'FunctionUrl'],
      });
    }
  });
});

describe('connector worker', () => {
  const CONNECTOR_ALARMS = ['ConnectorWorkerErrors', 'ConnectorWorkerNotRunning', 'ConnectorWorkerThrottles'];

  it('runs every minute, at most two runs at once, on Node.js 22 arm64 with strict destinations', () => {
    const t = byDefault.template;
    const [workerId, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'ConnectorsFunction');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 2,
      Timeout: 90,
      Environment: { Variables: { RUNNEL_CONNECTOR_DESTINATIONS: 'strict' } },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [workerId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
  });

  it('alone may assume roles: only roles, only with an external id and its own session name', () => {
    const t = byDefault.template;
    const statements = statementsOf(t, 'ConnectorsFunction');
    const assume = statements.filter((s) => asArray(s.Action).includes('sts:AssumeRole'));
    expect(assume).toHaveLength(1);
    expect(assume[0]).toMatchObject({
      Action: 'sts:AssumeRole',
      Resource: 'arn:aws:iam::*:role/*',
      Condition: {
        Null: { 'sts:ExternalId': 'false' },
        StringLike: { 'sts:RoleSessionName': 'runnel-connector-*' },
      },
    });
    expect(actionsOf(statements).filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('logs:'))).toEqual([
      's3:GetObject',
      's3:PutObject',
      'sts:AssumeRole',
    ]);
    for (const [, policy] of resourcesOf(t, 'AWS::IAM::Policy')) {
      const others = (policy.Properties.PolicyDocument.Statement as any[]).filter(
        (s) => asArray<string>(s.Action).some((a) => a.startsWith('sts:')) && s.Sid !== 'AssumeTenantSinkRoles',
      );
      expect(others).toEqual([]);
    }
    expect(actionsOf(statementsOf(t, 'ApiFunction')).filter((a) => a.startsWith('sts:'))).toEqual([]);
  });

  it('has alarms on errors, missed runs and throttles, each documented in docs/connectors.md', () => {
    const t = byDefault.template;
    const topicId = logicalId(t, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    const workerId = logicalId(t, 'AWS::Lambda::Function', 'ConnectorsFunction');
    const doc = readFileSync(new URL('../../docs/connectors.md', import.meta.url), 'utf8');
    for (const name of CONNECTOR_ALARMS) {
      const [, alarm] = resourceNamed(t, 'AWS::CloudWatch::Alarm', `Connectors${name}`);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: workerId } }]);
      expect(alarm.Properties.AlarmDescription).toContain(`docs/connectors.md#${name.toLowerCase()}`);
      expect(doc).toContain(`\n#### ${name.toLowerCase()}\n`);
    }
  });

  it('outputs the role tenants trust for their s3-sinks', () => {
    const [, fn] = resourceNamed(byDefault.template, 'AWS::Lambda::Function', 'ConnectorsFunction');
    const { ConnectorWorkerRoleArn } = byDefault.template.toJSON().Outputs;
    expect(ConnectorWorkerRoleArn.Value).toEqual({ 'Fn::GetAtt': [fn.Properties.Role['Fn::GetAtt'][0], 'Arn'] });
  });
});

/**
 * The API asset's module graph (what a start loads, and every file with the chunks behind
 * `import()`), and the answers of its handler, run in a child process, to requests for
 * routes kept for first use (an invalid operator request, a wrong method, the console).
 */
function inspectApiBundle(dir: string) {
  const entry = join(dir, 'index.mjs');
  const atStart = moduleGraph(entry, false);
  const operatorKey = 'operator-key-for-the-bundle-test';
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const event = (method, path, body) => ({
      version: '2.0', routeKey: '$default', rawPath: path, rawQueryString: '',
      headers: { host: 'example.lambda-url.eu-west-1.on.aws', 'content-type': 'application/json', authorization: 'Bearer ${operatorKey}' },
      requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' }, requestId: 'r', routeKey: '$default', stage: '$default', timeEpoch: 0 },
      body: body === undefined ? undefined : JSON.stringify(body), isBase64Encoded: false,
    });
    const answers = [];
    for (const [method, path, body] of [['PATCH', '/admin/v1/tenants/t1', { quotas: 'none' }], ['PUT', '/admin/v1/tenants/t1'], ['GET', '/console']]) {
      const res = await handler(event(method, path, body), { awsRequestId: 'r', functionName: 'api' });
      answers.push({ status: res.statusCode, type: res.headers['content-type'], body: res.body.slice(0, 300) });
    }
    process.stdout.write('\\nANSWERS ' + JSON.stringify(answers) + '\\n');`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example',
      RUNNEL_METADATA_TABLE: 'runnel-metadata',
      RUNNEL_LOG_TABLE: 'runnel-log',
      RUNNEL_SEGMENT_BUCKET: 'runnel-segments',
      RUNNEL_OPERATOR_KEY_HASH: createHash('sha256').update(operatorKey).digest('hex'),
      RUNNEL_SERVICE_NAME: 'runnel',
      RUNNEL_METRICS_NAMESPACE: 'Runnel',
    },
  });
  return {
    atStart: atStart.size,
    files: moduleGraph(entry, true).size,
    startCode: [...atStart].map((f) => readFileSync(f, 'utf8')).join('\n'),
    answers: JSON.parse(
      out
        .split('\n')
        .find((line) => line.startsWith('ANSWERS '))
        ?.slice(8) ?? '[]',
    ) as { status: number; type: string; body: string }[],
  };
}

/** The output files a bundle's module imports, transitively: statically only, or with `import()` too. */
function moduleGraph(entry: string, dynamic: boolean) {
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${file} is imported but not in the bundle`);
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    const pattern = dynamic
      ? /(?:from|import)\s*\(?"(\.\.?\/[^"]+\.mjs)"/g
      : /(?:from|import)\s*"(\.\.?\/[^"]+\.mjs)"/g;
    for (const [, path] of code.matchAll(pattern)) pending.push(join(dirname(file), path as string));
  }
  return seen;
}

const consoleFiles = (dir: string) =>
  ['index.html', ...readdirSync(join(dir, 'assets')).map((f) => `assets/${f}`)].sort();
function apiAssetDir(directory: string, template: Template) {
  const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', 'ApiFunction');
  return join(directory, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
}
function consoleInAsset(directory: string, template: Template) {
  const dir = join(apiAssetDir(directory, template), 'console');
  return existsSync(dir)
    ? { files: consoleFiles(dir), index: readFileSync(join(dir, 'index.html'), 'utf8') }
    : { files: [], index: '' };
}

describe('the web console', () => {
  it("ships inside the API function's bundle, as built, and is served from there (no bucket or distribution of its own)", () => {
    expect(bundledConsole.files).toEqual(consoleFiles(join('console', 'dist')));
    expect(bundledConsole.index).toBe(readFileSync(join('console', 'dist', 'index.html'), 'utf8'));
    expect(resourcesOf(byDefault.template, 'AWS::CloudFront::Distribution')).toEqual([]);
    expect(resourcesOf(byDefault.template, 'AWS::S3::Bucket')).toHaveLength(1); // the segment bucket
  });
});
