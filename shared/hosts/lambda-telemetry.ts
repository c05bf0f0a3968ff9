import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { LogSink, MetricsSink, MetricUnit as Unit } from '#shared/observability/telemetry';

const UNITS: Record<Unit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  Bytes: MetricUnit.Bytes,
};

export interface LambdaTelemetry {
  /** Powertools' logger: the host adds the Lambda context to it per invocation. */
  logger: Logger;
  log: LogSink;
  metrics: MetricsSink;
}

/**
 * The app's log and metrics sinks on Powertools for AWS Lambda: JSON log lines (with the
 * Lambda request id once the host calls `logger.addContext`), and metrics as CloudWatch
 * Embedded Metric Format lines, which CloudWatch turns into metrics with no API call.
 * Service name and namespace come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE (set by the CDK construct).
 */
export const lambdaTelemetry = ({
  serviceName = 'runnel',
  namespace = 'Runnel',
}: {
  serviceName?: string;
  namespace?: string;
} = {}): LambdaTelemetry => {
  const logger = new Logger({ serviceName });
  const emf = new Metrics({ serviceName, namespace });
  return {
    logger,
    log: ({ level = 'info', msg = '', ...fields }) => logger[level](msg, fields),
    metrics: {
      publish(data, properties) {
        // One EMF line per call. A Lambda container serves one request at a time and this
        // runs without awaiting, so no other request's datapoints can mix in.
        for (const [key, value] of Object.entries(properties)) {
          if (value !== undefined) emf.addMetadata(key, String(value));
        }
        for (const d of data) emf.addMetric(d.name, UNITS[d.unit], d.value);
        emf.publishStoredMetrics();
      },
    },
  };
};
