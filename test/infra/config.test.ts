import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DeployConfigError, readDeployConfig } from '../../infra/config';
import { defineRunnelApp } from '../../infra/runnel-app';

const read = (context: Record<string, unknown>) => readDeployConfig((key) => context[key]);

describe('deploy context', () => {
  it('has defaults for everything', () => {
    expect(read({})).toEqual({
      stageName: 'prod',
      frontDoor: 'functionUrl',
      apiReservedConcurrency: undefined,
      domainName: undefined,
      certificateArn: undefined,
      corsOrigins: [],
      alarmEmail: undefined,
      throttleRateLimit: 1000,
      throttleBurstLimit: 2000,
      tracing: false,
      logRetentionDays: 30,
    });
  });

  it('reads strings from -c as well as JSON values from cdk.json', () => {
    const fromCli = read({
      corsOrigins: 'https://a.example, https://b.example:8443',
      tracing: 'true',
      logRetentionDays: '7',
    });
    const fromJson = read({
      corsOrigins: ['https://a.example', 'https://b.example:8443'],
      tracing: true,
      logRetentionDays: 7,
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli.corsOrigins).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(fromCli.tracing).toBe(true);
  });

  it.each([
    [{ stageName: 'Prod' }, 'stageName'],
    [{ stageName: 'a_b' }, 'stageName'],
    [{ stageName: 'x'.repeat(21) }, 'stageName'],
    [{ frontDoor: 'cloudfront' }, 'frontDoor'],
    [{ frontDoor: 'httpApi', domainName: 'api.example.com' }, 'certificateArn'],
    [{ frontDoor: 'httpApi', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' }, 'domainName'],
    [
      { frontDoor: 'httpApi', domainName: 'api.example.com', certificateArn: 'arn:aws:iam::123456789012:role/x' },
      'certificateArn',
    ],
    [
      {
        frontDoor: 'httpApi',
        domainName: 'not a domain',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      },
      'domainName',
    ],
    // API Gateway's settings mean nothing behind the Function URL: refused, not ignored.
    [
      { domainName: 'api.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' },
      'domainName',
    ],
    [{ throttleRateLimit: '50' }, 'throttleRateLimit'],
    [{ frontDoor: 'functionUrl', throttleBurstLimit: '100' }, 'throttleBurstLimit'],
    [{ apiReservedConcurrency: '0' }, 'apiReservedConcurrency'],
    [{ apiReservedConcurrency: 'many' }, 'apiReservedConcurrency'],
    [{ corsOrigins: 'https://a.example/path' }, 'corsOrigins'],
    [{ corsOrigins: 'javascript:alert(1)' }, 'corsOrigins'],
    [{ corsOrigins: 42 }, 'corsOrigins'],
    [{ alarmEmail: 'ops' }, 'alarmEmail'],
    [{ frontDoor: 'httpApi', throttleRateLimit: '0' }, 'throttleRateLimit'],
    [{ frontDoor: 'httpApi', throttleRateLimit: '1.5' }, 'throttleRateLimit'],
    [{ frontDoor: 'httpApi', throttleBurstLimit: 'lots' }, 'throttleBurstLimit'],
    [{ tracing: 'yes' }, 'tracing'],
    [{ logRetentionDays: '10' }, 'logRetentionDays'],
  ])('refuses %j, naming %s', (context, key) => {
    expect(() => read(context)).toThrow(DeployConfigError);
    expect(() => read(context)).toThrow(`Invalid context '${key}'`);
  });

  it('reads the front door and the API concurrency cap', () => {
    expect(read({ frontDoor: 'httpApi', throttleRateLimit: '50' })).toMatchObject({
      frontDoor: 'httpApi',
      throttleRateLimit: 50,
    });
    expect(read({ apiReservedConcurrency: '200' }).apiReservedConcurrency).toBe(200);
    expect(read({ apiReservedConcurrency: 200 }).apiReservedConcurrency).toBe(200);
  });

  it('bad context fails the synth before anything is built', () => {
    const app = new App({ context: { stageName: 'Bad Stage', tracing: 'true' } });
    expect(() => defineRunnelApp(app)).toThrow("Invalid context 'stageName'");
    expect(app.node.children).toHaveLength(0);
  });
});

describe('cdk-nag in the synth', () => {
  it('fails a synth on a finding nobody acknowledged, and passes once it is', () => {
    const synthBucket = (acknowledge: boolean) => {
      const outdir = mkdtempSync(join(tmpdir(), 'runnel-nag-'));
      const app = new App({ outdir });
      const stack = new Stack(app, 'Bare');
      const bucket = new s3.Bucket(stack, 'Bucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
      });
      if (acknowledge) Validations.of(bucket).acknowledge({ id: 'AwsSolutions::AwsSolutions-S1', reason: 'test' });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      try {
        app.synth();
        return JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    };
    expect(() => synthBucket(false)).toThrow();
    const report = synthBucket(true);
    expect(report.pluginReports[0].conclusion).toBe('success');
    expect(report.pluginReports[0].suppressedViolations.map((v: any) => v.ruleName)).toEqual(['AwsSolutions-S1']);
  }, 120_000);
});
