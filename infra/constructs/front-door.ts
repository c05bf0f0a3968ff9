import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { FrontDoorKind } from '../config';

/**
 * What clients call to reach the API function: its own Function URL (the default) or an
 * API Gateway HTTP API. The stack, the alarms and the dashboard see only this.
 */
export interface RunnelFrontDoor {
  readonly kind: FrontDoorKind;
  /** The URL clients use, ending in `/`. */
  readonly url: string;
  /** The origin browsers see for the API and the console it serves (no trailing `/`). */
  readonly origin: string;
  /** API Gateway's access log; a Function URL has none (the function logs each request itself). */
  readonly accessLogs: logs.ILogGroup | undefined;
  /** Requests, 4xx and 5xx answers (Sum), and end-to-end latency (ms) as the front door measures them. */
  metricRequests(period: Duration): cloudwatch.IMetric;
  metricClientErrors(period: Duration): cloudwatch.IMetric;
  metricServerErrors(period: Duration): cloudwatch.IMetric;
  metricLatency(period: Duration, statistic: string): cloudwatch.IMetric;
}
