/**
 * What the app reports about itself, behind two small interfaces so the app stays
 * host-agnostic: Lambda backs them with JSON lines on stdout (logs, CloudWatch EMF metrics;
 * `shared/hosts/lambda-telemetry.ts`), the local server with createApp's default log
 * (JSON lines on stderr, no metrics), tests with arrays.
 */

/** One structured log line (never a secret). `level` and `msg` are conventional. */
export type LogEntry = Record<string, unknown> & { level?: 'debug' | 'info' | 'warn' | 'error'; msg?: string };
export type LogSink = (entry: LogEntry) => void;

export type MetricUnit = 'Count' | 'Milliseconds' | 'Bytes';

export interface MetricDatum {
  name: MetricName;
  unit: MetricUnit;
  value: number;
}

/** The metric names the app emits (the dashboard in infra/constructs/monitoring.ts graphs them). */
export type MetricName =
  | 'Requests'
  | 'ClientErrors'
  | 'ServerErrors'
  | 'Throttled'
  | 'RequestLatency'
  | 'ProduceLatency'
  | 'FetchLatency'
  | 'BytesIn'
  | 'BytesOut'
  | 'ConditionalWriteConflicts'
  | 'StorageThrottles';

/**
 * Context published with a set of metrics. Not metric dimensions (per-tenant dimensions
 * would make a CloudWatch metric per tenant and topic): in EMF they are searchable fields,
 * so CloudWatch Logs Insights can sum them by tenant or topic.
 */
export type MetricProperties = Record<string, string | number | undefined>;

export interface MetricsSink {
  /** Publishes these datapoints together, with their context. */
  publish(metrics: MetricDatum[], properties: MetricProperties): void;
}
