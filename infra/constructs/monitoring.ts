import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { RunnelFrontDoor } from './front-door';
import { METRICS_NAMESPACE, METRICS_SERVICE_NAME } from './runnel-function';

/** The table operations the functions send (see access.ts); alarms and graphs sum over them. */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
  dynamodb.Operation.BATCH_WRITE_ITEM,
];

export interface RunnelMonitoringProps {
  stageName: string;
  /** What clients call: the API function's Function URL or the HTTP API. */
  frontDoor: RunnelFrontDoor;
  apiFunction: lambda.Function;
  /** The stream function (Server-Sent Events behind its Function URL). */
  streamFunction: lambda.Function;
  maintenanceFunction: lambda.Function;
  tables: { metadata: dynamodb.ITable; log: dynamodb.ITable };
  bucket: s3.IBucket;
  /** Request metrics configuration id on the bucket (S3 publishes 5xxErrors only for it). */
  bucketMetricsFilterId: string;
  alarmEmail: string | undefined;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms (each documented in docs/deploy.md with what to do), their SNS topic (with an
 * optional e-mail subscription), and one dashboard.
 */
export class RunnelMonitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RunnelMonitoringProps) {
    super(scope, id);
    const { frontDoor, apiFunction, streamFunction, maintenanceFunction, tables, bucket } = props;

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Runnel ${props.stageName} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const alarm = (
      name: string,
      description: string,
      options: cloudwatch.CreateAlarmOptions,
      metric: cloudwatch.IMetric,
    ) => {
      const created = new cloudwatch.Alarm(this, name, {
        metric,
        alarmDescription: `${description} See docs/deploy.md#${name.toLowerCase()}.`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(created);
      return created;
    };

    // --- API ---------------------------------------------------------------------------
    const requests = frontDoor.metricRequests(FIVE_MINUTES);
    const serverErrors = frontDoor.metricServerErrors(FIVE_MINUTES);
    const clientErrors = frontDoor.metricClientErrors(FIVE_MINUTES);
    const serverErrorRate = new cloudwatch.MathExpression({
      // Below 20 requests in 5 minutes a single failure is not a rate.
      expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: FIVE_MINUTES,
      label: '5xx %',
    });
    alarm(
      'Api5xxRate',
      'More than 1% of API requests answered 5xx in 2 of the last 3 five-minute periods.',
      { threshold: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
      serverErrorRate,
    );

    // Requests API Gateway refused because the stage's throttling limits were reached
    // (status 429 with no integration call), counted from the access log. A Function URL
    // has no stage limits: its bound is the function's concurrency (ApiFunctionThrottles).
    const gatewayThrottled = frontDoor.accessLogs
      ? new logs.MetricFilter(this, 'GatewayThrottledFilter', {
          logGroup: frontDoor.accessLogs,
          metricNamespace: METRICS_NAMESPACE,
          metricName: 'GatewayThrottled',
          filterPattern: logs.FilterPattern.all(
            logs.FilterPattern.stringValue('$.status', '=', '429'),
            logs.FilterPattern.stringValue('$.integrationStatus', '=', '-'),
          ),
          metricValue: '1',
        }).metric({ period: FIVE_MINUTES, statistic: 'Sum' })
      : undefined;
    if (gatewayThrottled) {
      alarm(
        'ApiThrottled',
        'API Gateway throttled at least 10 requests in five minutes (stage rate/burst limits).',
        { threshold: 10, evaluationPeriods: 1 },
        gatewayThrottled,
      );
    }
    alarm(
      'ApiFunctionThrottles',
      'Lambda throttled the API function (account or reserved concurrency reached).',
      { threshold: 1, evaluationPeriods: 1 },
      apiFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
    );
    alarm(
      'StreamFunctionThrottles',
      'Lambda refused streams: the stream function reached its reserved concurrency (maxStreams open streams).',
      { threshold: 1, evaluationPeriods: 1 },
      streamFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
    );
    alarm(
      'ApiFunctionErrors',
      'The API function failed invocations (crash at start, timeout or out of memory) in 2 of 3 five-minute periods.',
      { threshold: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
      apiFunction.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
    );

    // --- Storage -----------------------------------------------------------------------
    for (const [name, table] of [
      ['MetadataTable', tables.metadata],
      ['LogTable', tables.log],
    ] as const) {
      alarm(
        `${name}Throttles`,
        `DynamoDB throttled at least 10 requests to the ${name} in five minutes.`,
        { threshold: 10, evaluationPeriods: 1 },
        table.metricThrottledRequestsForOperations({ operations: TABLE_OPERATIONS, period: FIVE_MINUTES }),
      );
      alarm(
        `${name}SystemErrors`,
        `DynamoDB answered the ${name} with server errors (HTTP 500) in five minutes.`,
        { threshold: 1, evaluationPeriods: 1 },
        table.metricSystemErrorsForOperations({ operations: TABLE_OPERATIONS, period: FIVE_MINUTES }),
      );
    }
    const bucketServerErrors = new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: '5xxErrors',
      dimensionsMap: { BucketName: bucket.bucketName, FilterId: props.bucketMetricsFilterId },
      period: FIVE_MINUTES,
      statistic: 'Sum',
    });
    alarm(
      'BucketServerErrors',
      'S3 answered at least 5 requests to the segment bucket with server errors in five minutes.',
      { threshold: 5, evaluationPeriods: 1 },
      bucketServerErrors,
    );

    // --- Maintenance -------------------------------------------------------------------
    alarm(
      'MaintenanceErrors',
      'The maintenance function failed on two runs in a row.',
      { threshold: 1, evaluationPeriods: 2, datapointsToAlarm: 2 },
      maintenanceFunction.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
    );
    alarm(
      'MaintenanceNotRunning',
      'The maintenance function did not run for 15 minutes (schedule disabled or invocations failing).',
      {
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
      maintenanceFunction.metricInvocations({ period: Duration.minutes(15), statistic: 'Sum' }),
    );

    // --- Dashboard ---------------------------------------------------------------------
    const app = (metricName: string, statistic = 'Sum', label = metricName) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRICS_SERVICE_NAME },
        period: FIVE_MINUTES,
        statistic,
        label,
      });
    const width = 8;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `runnel-${props.stageName}`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests', left: [requests, clientErrors, serverErrors], width }),
      new cloudwatch.GraphWidget({
        title: 'API latency (ms)',
        left: [frontDoor.metricLatency(FIVE_MINUTES, 'p50'), frontDoor.metricLatency(FIVE_MINUTES, 'p99')],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttled / 5xx %',
        left: [gatewayThrottled ?? apiFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' })],
        right: [serverErrorRate],
        width,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Produce / fetch latency (ms, p99)',
        left: [app('ProduceLatency', 'p99'), app('FetchLatency', 'p99'), app('RequestLatency', 'p99')],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Bytes in / out',
        left: [app('BytesIn'), app('BytesOut')],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'Requests by class',
        left: [app('Requests'), app('ClientErrors'), app('ServerErrors'), app('Throttled')],
        width,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Conditional-write conflicts / storage throttles',
        left: [app('ConditionalWriteConflicts'), app('StorageThrottles')],
        width,
      }),
    );
    const fnGraphs = (title: string, fn: lambda.Function) => [
      new cloudwatch.GraphWidget({
        title: `${title}: invocations, errors, throttles`,
        left: [fn.metricInvocations(), fn.metricErrors(), fn.metricThrottles()],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: `${title}: duration (ms)`,
        left: [fn.metricDuration({ statistic: 'p50' }), fn.metricDuration({ statistic: 'p99' })],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: `${title}: concurrency`,
        left: [fn.metric('ConcurrentExecutions', { statistic: 'Maximum' })],
        width,
      }),
    ];
    this.dashboard.addWidgets(...fnGraphs('API function', apiFunction));
    this.dashboard.addWidgets(...fnGraphs('Maintenance', maintenanceFunction));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: [
          tables.metadata.metricConsumedReadCapacityUnits(),
          tables.metadata.metricConsumedWriteCapacityUnits(),
          tables.log.metricConsumedReadCapacityUnits(),
          tables.log.metricConsumedWriteCapacityUnits(),
        ],
        width,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttle events',
        left: [tables.metadata, tables.log].flatMap((table) => [
          table.metric('ReadThrottleEvents', { statistic: 'Sum' }),
          table.metric('WriteThrottleEvents', { statistic: 'Sum' }),
        ]),
        width,
      }),
    );
    this.dashboard.addWidgets(
      // One graph per table: the per-operation expressions of two tables cannot share a graph.
      ...[tables.metadata, tables.log].map(
        (table, i) =>
          new cloudwatch.GraphWidget({
            title: `${i === 0 ? 'Metadata' : 'Log'} table system errors`,
            left: [table.metricSystemErrorsForOperations({ operations: TABLE_OPERATIONS })],
            width,
          }),
      ),
      new cloudwatch.GraphWidget({ title: 'S3 server errors', left: [bucketServerErrors], width }),
    );
  }
}
