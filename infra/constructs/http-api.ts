import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS_POLICY } from '#shared/app/cors-policy';
import type { DeployConfig } from '../config';
import type { RunnelFrontDoor } from './front-door';

/**
 * The access log line of API Gateway: no query string (`$context.path` is the path only)
 * and no headers, so neither keys nor other secrets reach the log.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  errorMessage: '$context.error.message',
};

export interface RunnelHttpApiProps {
  handler: lambda.IFunction;
  config: DeployConfig;
}

/**
 * The opt-in front door (`-c frontDoor=httpApi`): API Gateway HTTP API → the API
 * function (payload 2.0) on every route, with throttling on the default stage, JSON
 * access logs, CORS when origins are given, and an optional custom domain (which then
 * replaces the execute-api endpoint).
 */
export class RunnelHttpApi extends Construct implements RunnelFrontDoor {
  readonly kind = 'httpApi' as const;
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly domainName: apigwv2.DomainName | undefined;
  private readonly customDomain: string | undefined;

  constructor(scope: Construct, id: string, { handler, config }: RunnelHttpApiProps) {
    super(scope, id);
    this.customDomain = config.domainName;
    this.domainName =
      config.domainName && config.certificateArn
        ? new apigwv2.DomainName(this, 'Domain', {
            domainName: config.domainName,
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn),
          })
        : undefined;

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: `Runnel ${config.stageName}`,
      createDefaultStage: false,
      disableExecuteApiEndpoint: Boolean(this.domainName),
      defaultIntegration: new HttpLambdaIntegration('Function', handler, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
      corsPreflight:
        config.corsOrigins.length > 0
          ? {
              allowOrigins: config.corsOrigins,
              allowMethods: CORS_POLICY.allowMethods.map((m) => apigwv2.CorsHttpMethod[m]),
              allowHeaders: CORS_POLICY.allowHeaders.map((h) => h.toLowerCase()),
              exposeHeaders: CORS_POLICY.exposeHeaders.map((h) => h.toLowerCase()),
              maxAge: Duration.seconds(CORS_POLICY.maxAgeSeconds),
            }
          : undefined,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttleRateLimit, burstLimit: config.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: this.domainName ? { domainName: this.domainName } : undefined,
    });
  }

  /** The origin browsers see for the API (and the console it serves): the custom domain's, or execute-api's. */
  get origin(): string {
    return this.domainName && this.customDomain ? `https://${this.customDomain}` : this.api.apiEndpoint;
  }

  /** The URL clients use: the custom domain if there is one, else the execute-api endpoint. */
  get url(): string {
    return this.domainName ? `https://${this.domainName.name}/` : (this.stage.url ?? this.api.apiEndpoint);
  }

  metricRequests(period: Duration) {
    return this.api.metricCount({ period, statistic: 'Sum' });
  }

  metricClientErrors(period: Duration) {
    return this.api.metricClientError({ period, statistic: 'Sum' });
  }

  metricServerErrors(period: Duration) {
    return this.api.metricServerError({ period, statistic: 'Sum' });
  }

  metricLatency(period: Duration, statistic: string) {
    return this.api.metricLatency({ period, statistic });
  }
}
