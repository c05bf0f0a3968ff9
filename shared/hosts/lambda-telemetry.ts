import type { LogEntry, LogSink, MetricsSink } from '#shared/observability/telemetry';

/**
 * The app's log and metrics sinks in Lambda: one JSON object per line on stdout, which
 * CloudWatch Logs stores as is (stdout bypasses the runtime's console formatting), for
 * both kinds:
 *
 * - log lines: `level`, `message`, `timestamp`, `service`, the invocation's context
 *   (`cold_start`, `function_name`, `function_request_id`, `function_memory_size`,
 *   `xray_trace_id` and the keys the host adds, e.g. `apiRequestId`), then the entry's
 *   fields. Lines below the function's log level (Lambda's `AWS_LAMBDA_LOG_LEVEL`, set by
 *   its logging configuration; `info` otherwise) are dropped.
 * - metrics: CloudWatch Embedded Metric Format
 *   (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 *   one line per publish, the `service` dimension only, the context as plain fields
 *   (searchable in Logs Insights, not dimensions), which CloudWatch turns into metrics
 *   with no API call.
 *
 * Written here rather than with Powertools for AWS Lambda, whose logger and metrics were
 * about 31 KB of the API's start for these two line formats (docs/deploy.md, cold start).
 */
export interface LambdaTelemetry {
  /** Call once per invocation, first: every line of it carries this context and these keys. */
  startInvocation(context: LambdaContext | undefined, keys?: Record<string, unknown>): void;
  log: LogSink;
  metrics: MetricsSink;
}

/** The fields of the Lambda context the log lines carry. */
export interface LambdaContext {
  awsRequestId: string;
  functionName?: string;
  functionVersion?: string;
  memoryLimitInMB?: string | number;
}

const LEVELS: Record<NonNullable<LogEntry['level']>, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const levelOf = (name: string | undefined): number => {
  const key = name?.toLowerCase();
  if (key === 'trace') return LEVELS.debug;
  if (key === 'fatal') return LEVELS.error;
  return key !== undefined && key in LEVELS ? LEVELS[key as keyof typeof LEVELS] : LEVELS.info;
};

/** `_X_AMZN_TRACE_ID` is `Root=1-…;Parent=…;Sampled=…`: the root is the trace id. */
const traceIdOf = (header: string | undefined) => header?.split(';')[0]?.replace(/^Root=/, '') || undefined;

export const lambdaTelemetry = ({
  serviceName = 'runnel',
  namespace = 'Runnel',
  env = process.env,
  write = (line: string) => {
    process.stdout.write(line);
  },
}: {
  serviceName?: string | undefined;
  namespace?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Where lines go. @default stdout */
  write?: (line: string) => void;
} = {}): LambdaTelemetry => {
  const threshold = levelOf(env.AWS_LAMBDA_LOG_LEVEL);
  let coldStart = true;
  let invocation: Record<string, unknown> = {};
  const emit = (line: Record<string, unknown>) => write(`${JSON.stringify(line)}\n`);
  return {
    startInvocation(context, keys = {}) {
      invocation = {
        cold_start: coldStart,
        function_name: context?.functionName,
        function_request_id: context?.awsRequestId,
        function_memory_size: context?.memoryLimitInMB === undefined ? undefined : Number(context.memoryLimitInMB),
        xray_trace_id: traceIdOf(env._X_AMZN_TRACE_ID),
        ...keys,
      };
      coldStart = false;
    },
    log: ({ level = 'info', msg = '', ...fields }) => {
      if (LEVELS[level] < threshold) return;
      emit({
        level: level.toUpperCase(),
        message: msg,
        timestamp: new Date().toISOString(),
        service: serviceName,
        ...invocation,
        ...fields,
      });
    },
    metrics: {
      publish(data, properties) {
        if (data.length === 0) return;
        // A name given twice in one publish is one metric with several values (EMF arrays).
        const values = new Map<string, number[]>();
        const units = new Map<string, string>();
        for (const d of data) {
          values.set(d.name, [...(values.get(d.name) ?? []), d.value]);
          units.set(d.name, d.unit);
        }
        const context = Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== undefined));
        emit({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [['service']],
                Metrics: [...units].map(([Name, Unit]) => ({ Name, Unit })),
              },
            ],
          },
          ...context,
          service: serviceName,
          ...Object.fromEntries([...values].map(([name, v]) => [name, v.length === 1 ? v[0] : v])),
        });
      },
    },
  };
};
