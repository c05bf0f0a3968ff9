import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { bindBucket, bindTable } from './access';
import { RunnelFunction } from './runnel-function';

export interface RunnelConnectorWorkerProps {
  projectRoot: string;
  tables: { metadata: dynamodb.ITable; log: dynamodb.ITable };
  bucket: s3.IBucket;
  /** Table and bucket names (never secrets). */
  environment: Record<string, string>;
  alarmTopic: sns.ITopic;
  tracing?: boolean;
  logRetention?: logs.RetentionDays;
}

/** Prefix of the session name the worker assumes tenants' roles with (tenants may require it in their trust policy). */
export const CONNECTOR_SESSION_PREFIX = 'runnel-connector-';

/**
 * The connector runtime in AWS (docs/connectors.md): a function started every minute by
 * a schedule that runs passes over all connectors for about a minute, each connector
 * leased so overlapping invocations never step one twice. It alone may assume roles,
 * and only roles (any account: the tenants' own), only with an external id (the tenant
 * id, set by the code) and a session name of ours.
 */
export class RunnelConnectorWorker extends Construct {
  readonly function: RunnelFunction;
  readonly schedule: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: RunnelConnectorWorkerProps) {
    super(scope, id);
    this.function = new RunnelFunction(this, 'Function', {
      entry: `${props.projectRoot}/functions/connector-worker.ts`,
      projectRoot: props.projectRoot,
      description: 'Runnel connectors: datagen sources, http and s3 sinks, one minute per run',
      memorySize: 512,
      // A run lasts until 25 s before the timeout: ~65 s of passes, then its leases are freed.
      timeout: Duration.seconds(90),
      // The scheduled run and the one before it, finishing.
      reservedConcurrentExecutions: 2,
      environment: { ...props.environment, RUNNEL_CONNECTOR_DESTINATIONS: 'strict' },
      tracing: props.tracing,
      logRetention: props.logRetention,
    });
    bindTable({ grantee: this.function, table: props.tables.metadata });
    bindTable({ grantee: this.function, table: props.tables.log });
    // Sources write segments, sinks read them: the API function's object access.
    bindBucket({ grantee: this.function, bucket: props.bucket, access: 'API' });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTenantSinkRoles',
        actions: ['sts:AssumeRole'],
        resources: ['arn:aws:iam::*:role/*'],
        conditions: {
          // Never without an external id: the tenants' trust policies require theirs.
          Null: { 'sts:ExternalId': 'false' },
          StringLike: { 'sts:RoleSessionName': `${CONNECTOR_SESSION_PREFIX}*` },
        },
      }),
    );

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Starts the Runnel connector worker every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    const alarm = (name: string, description: string, options: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, name, {
        ...options,
        alarmDescription: `${description} See docs/connectors.md#${name.toLowerCase()}.`,
      });
      created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      created.addOkAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(created);
    };
    alarm('ConnectorWorkerErrors', 'The connector worker failed on three runs in a row.', {
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ConnectorWorkerNotRunning', 'The connector worker did not run for 5 minutes: no connector moves.', {
      metric: this.function.metricInvocations({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm('ConnectorWorkerThrottles', 'Connector worker runs were throttled: connectors fall behind.', {
      metric: this.function.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
