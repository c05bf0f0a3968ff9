import { Duration, Fn } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CORS_POLICY } from '#shared/app/cors-policy';
import type { DeployConfig } from '../config';
import type { RunnelFrontDoor } from './front-door';

export interface RunnelFunctionUrlApiProps {
  handler: lambda.Function;
  config: DeployConfig;
}

/**
 * The default front door: the API function's own Function URL (buffered responses,
 * payload 2.0 events, like the HTTP API's). Its auth type is NONE because the app
 * authenticates every request itself (API keys hashed and compared in constant time,
 * the operator key, read-only browser tokens) before any storage call, as the stream
 * function already does behind its Function URL. Lambda charges nothing for the URL
 * beyond the invocation. CORS, when origins are configured, is the URL's, with the
 * policy the app applies locally.
 */
export class RunnelFunctionUrlApi extends Construct implements RunnelFrontDoor {
  readonly kind = 'functionUrl' as const;
  readonly functionUrl: lambda.FunctionUrl;
  readonly accessLogs = undefined;
  private readonly handler: lambda.Function;

  constructor(scope: Construct, id: string, { handler, config }: RunnelFunctionUrlApiProps) {
    super(scope, id);
    this.handler = handler;
    this.functionUrl = new lambda.FunctionUrl(this, 'Url', {
      function: handler,
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
      cors:
        config.corsOrigins.length > 0
          ? {
              allowedOrigins: config.corsOrigins,
              allowedMethods: CORS_POLICY.allowMethods.map((m) => lambda.HttpMethod[m]),
              allowedHeaders: [...CORS_POLICY.allowHeaders],
              exposedHeaders: [...CORS_POLICY.exposeHeaders],
              maxAge: Duration.seconds(CORS_POLICY.maxAgeSeconds),
            }
          : undefined,
    });
  }

  get url(): string {
    return this.functionUrl.url;
  }

  /** `https://<url-id>.lambda-url.<region>.on.aws`: the URL without its trailing `/`. */
  get origin(): string {
    return `https://${Fn.select(2, Fn.split('/', this.functionUrl.url))}`;
  }

  // Lambda's Function URL metrics (AWS/Lambda, by function name).
  metricRequests(period: Duration) {
    return this.handler.metric('UrlRequestCount', { period, statistic: 'Sum', label: 'Requests' });
  }

  metricClientErrors(period: Duration) {
    return this.handler.metric('Url4xxCount', { period, statistic: 'Sum', label: '4xx' });
  }

  metricServerErrors(period: Duration) {
    return this.handler.metric('Url5xxCount', { period, statistic: 'Sum', label: '5xx' });
  }

  metricLatency(period: Duration, statistic: string) {
    return this.handler.metric('UrlRequestLatency', { period, statistic, label: `Latency ${statistic}` });
  }
}
