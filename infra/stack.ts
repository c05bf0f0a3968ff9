import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config';
import { bindBucket, bindSecretValue, bindTable } from './constructs/access';
import { RunnelConnectorWorker } from './constructs/connector-worker';
import type { RunnelFrontDoor } from './constructs/front-door';
import { RunnelFunctionUrlApi } from './constructs/function-url-api';
import { RunnelHttpApi } from './constructs/http-api';
import { RunnelMonitoring } from './constructs/monitoring';
import { RunnelFunction } from './constructs/runnel-function';
import { BUCKET_METRICS_FILTER_ID, RunnelStorage } from './constructs/storage';
import { RunnelStreamEndpoint } from './constructs/stream-endpoint';
import { acknowledgeNagFindings } from './nag';

/** The repository root: entries, package.json and package-lock.json are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

export interface RunnelStackProps extends StackProps {
  config: DeployConfig;
}

/**
 * One Runnel deployment: storage (retained on delete), the operator secret, the API
 * function behind its Function URL (or, with `frontDoor=httpApi`, an API Gateway HTTP
 * API), the stream function behind a streaming Function URL, the scheduled maintenance
 * function, alarms and a dashboard.
 */
export class RunnelStack extends Stack {
  readonly storage: RunnelStorage;
  readonly apiFunction: RunnelFunction;
  readonly maintenanceFunction: RunnelFunction;
  /** What clients call: the API function's Function URL, or the HTTP API (`frontDoor=httpApi`). */
  readonly frontDoor: RunnelFrontDoor;
  /** The HTTP API, when it is the front door. */
  readonly http: RunnelHttpApi | undefined;
  readonly streams: RunnelStreamEndpoint;
  readonly monitoring: RunnelMonitoring;
  readonly connectors: RunnelConnectorWorker;
  readonly operatorSecret: secretsmanager.Secret;
  readonly tracing: boolean;

  constructor(scope: Construct, id: string, props: RunnelStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.tracing = config.tracing;

    this.storage = new RunnelStorage(this, 'Storage');
    const { metadataTable, logTable, bucket } = this.storage;

    this.operatorSecret = new secretsmanager.Secret(this, 'OperatorKey', {
      description: `Runnel ${config.stageName}: the operator key (Authorization: Bearer <value> on /admin/v1)`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      // Deleted with the stack; a new deployment generates a new key.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const storageEnvironment = {
      RUNNEL_METADATA_TABLE: metadataTable.tableName,
      RUNNEL_LOG_TABLE: logTable.tableName,
      RUNNEL_SEGMENT_BUCKET: bucket.bucketName,
    };

    this.apiFunction = new RunnelFunction(this, 'ApiFunction', {
      entry: `${PROJECT_ROOT}/functions/api.ts`,
      projectRoot: PROJECT_ROOT,
      description: 'Runnel HTTP API',
      // 1 GB: more CPU for the cold start and for segment encoding; see docs/deploy.md.
      memorySize: 1024,
      // Long polls wait up to 20 s; API Gateway gives up at 30 s (a Function URL would wait 15 min).
      timeout: Duration.seconds(28),
      // The Function URL's throttle, when set (requests beyond it get 429).
      reservedConcurrentExecutions: config.apiReservedConcurrency,
      environment: { ...storageEnvironment, RUNNEL_OPERATOR_SECRET_ARN: this.operatorSecret.secretArn },
      tracing: config.tracing,
      logRetention: config.logRetentionDays,
      // The web console's build, served by this function at /console (docs/console.md).
      bundleDirs: { console: `${PROJECT_ROOT}/console/dist` },
      // The OpenAPI document, generated from the routes at build time (npm run openapi) and
      // read by the function on the first GET /openapi.json, never at start.
      bundleFiles: { 'openapi.json': `${PROJECT_ROOT}/shared/app/openapi.json` },
    });
    bindTable({ grantee: this.apiFunction, table: metadataTable });
    bindTable({ grantee: this.apiFunction, table: logTable });
    bindBucket({ grantee: this.apiFunction, bucket, access: 'API' });
    bindSecretValue({ grantee: this.apiFunction, secret: this.operatorSecret });

    this.http =
      config.frontDoor === 'httpApi'
        ? new RunnelHttpApi(this, 'Http', { handler: this.apiFunction, config })
        : undefined;
    this.frontDoor = this.http ?? new RunnelFunctionUrlApi(this, 'Api', { handler: this.apiFunction, config });

    // Streams: keys, tokens and usage in the metadata table; the log read, never written.
    this.streams = new RunnelStreamEndpoint(this, 'Streams', {
      config,
      projectRoot: PROJECT_ROOT,
      environment: storageEnvironment,
      // The console, served by the API on its origin, follows topics live from here. Behind
      // a Function URL that origin cannot be named: the API function's environment names the
      // stream URL, whose CORS would name the API's URL, which needs the function first (a
      // cycle). Streams then allow any origin; see RunnelStreamEndpoint.
      consoleOrigin: this.http ? this.http.origin : 'any',
    });
    // The console's CSP and its live tail name the stream endpoint (docs/console.md).
    this.apiFunction.addEnvironment('RUNNEL_STREAM_URL', this.streams.url);
    bindTable({ grantee: this.streams.function, table: metadataTable });
    bindTable({ grantee: this.streams.function, table: logTable, access: 'READ' });
    bindBucket({ grantee: this.streams.function, bucket, access: 'READ' });

    this.maintenanceFunction = new RunnelFunction(this, 'MaintenanceFunction', {
      entry: `${PROJECT_ROOT}/functions/maintenance.ts`,
      projectRoot: PROJECT_ROOT,
      description: 'Runnel maintenance: retention trim and compaction, every 5 minutes',
      memorySize: 512,
      // Shorter than the schedule's interval, and one at a time, so runs never overlap.
      timeout: Duration.minutes(4),
      reservedConcurrentExecutions: 1,
      environment: storageEnvironment,
      tracing: config.tracing,
      logRetention: config.logRetentionDays,
    });
    bindTable({ grantee: this.maintenanceFunction, table: metadataTable });
    bindTable({ grantee: this.maintenanceFunction, table: logTable });
    bindBucket({ grantee: this.maintenanceFunction, bucket, access: 'RW' });

    new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Runs Runnel maintenance every 5 minutes',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      // A failed run is not retried: the next one starts in 5 minutes.
      targets: [new targets.LambdaFunction(this.maintenanceFunction, { retryAttempts: 0 })],
    });

    this.monitoring = new RunnelMonitoring(this, 'Monitoring', {
      stageName: config.stageName,
      frontDoor: this.frontDoor,
      apiFunction: this.apiFunction,
      streamFunction: this.streams.function,
      maintenanceFunction: this.maintenanceFunction,
      tables: { metadata: metadataTable, log: logTable },
      bucket,
      bucketMetricsFilterId: BUCKET_METRICS_FILTER_ID,
      alarmEmail: config.alarmEmail,
    });

    this.connectors = new RunnelConnectorWorker(this, 'Connectors', {
      projectRoot: PROJECT_ROOT,
      tables: { metadata: metadataTable, log: logTable },
      bucket,
      environment: storageEnvironment,
      alarmTopic: this.monitoring.alarmTopic,
      tracing: config.tracing,
      logRetention: config.logRetentionDays,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.frontDoor.url,
      description:
        this.frontDoor.kind === 'httpApi'
          ? 'The Runnel API endpoint (API Gateway HTTP API)'
          : "The Runnel API endpoint (the API function's Function URL)",
    });
    new CfnOutput(this, 'StreamUrl', {
      value: this.streams.url,
      description: 'Server-Sent Event streams (GET .../records with Accept: text/event-stream)',
    });
    new CfnOutput(this, 'ConsoleUrl', { value: `${this.frontDoor.url}console`, description: 'The web console' });
    if (this.http?.domainName) {
      new CfnOutput(this, 'DomainTarget', {
        value: this.http.domainName.regionalDomainName,
        description: `Point ${config.domainName} here (CNAME, or a Route 53 alias with the regional hosted zone)`,
      });
    }
    new CfnOutput(this, 'OperatorKeySecretArn', {
      value: this.operatorSecret.secretArn,
      description: 'aws secretsmanager get-secret-value --secret-id <this> --query SecretString --output text',
    });
    new CfnOutput(this, 'MetadataTableName', { value: metadataTable.tableName });
    new CfnOutput(this, 'LogTableName', { value: logTable.tableName });
    new CfnOutput(this, 'SegmentBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'ConnectorWorkerRoleArn', {
      value: this.connectors.function.role?.roleArn ?? '',
      description: "Trust this role (with the tenant id as sts:ExternalId) in an s3-sink's roleArn",
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.alarmTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: `runnel-${config.stageName}` });

    acknowledgeNagFindings(this);
  }
}
