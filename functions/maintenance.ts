import type { Context } from 'aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { createSdkClients } from '#shared/adapters/sdk-clients';
import { SdkErrorCounter } from '#shared/adapters/sdk-error-counter';
import { maintenanceFunctionConfig } from '#shared/hosts/config';
import { type LambdaContext, lambdaTelemetry } from '#shared/hosts/lambda-telemetry';
import { MaintenanceJob } from '#shared/services/maintenance';

// Built once per execution environment; the schedule invokes `handler` every few minutes.
// The same SDK clients (timeouts, retries), telemetry and storage error counter as the API function.
const config = maintenanceFunctionConfig(process.env);
const telemetry = lambdaTelemetry(config.telemetry);
const { dynamodb, s3 } = createSdkClients({ s3ForcePathStyle: config.s3ForcePathStyle });

const storageErrors = new SdkErrorCounter();
storageErrors.attach(dynamodb, 'DynamoDB');
storageErrors.attach(s3, 'S3');

const job = new MaintenanceJob(awsPorts({ dynamodb, s3 }, config.storage), config.options);

/** Stop starting work this long before Lambda's timeout, so the run ends (and frees its lease) itself. */
const STOP_BEFORE_TIMEOUT_MS = 30_000;

export const handler = async (_event: unknown, context: Context) => {
  telemetry.startInvocation(context as LambdaContext | undefined);
  const remaining = context.getRemainingTimeInMillis();
  try {
    const report = await job.run({
      maxRunMs: Math.max(0, Math.min(config.options.maxRunMs ?? remaining, remaining - STOP_BEFORE_TIMEOUT_MS)),
      // If the run is killed anyway, the next scheduled run may take over soon after the timeout.
      leaseMs: remaining + 60_000,
    });
    telemetry.log({ level: 'info', msg: 'maintenance run', ...report });
    return report;
  } catch (error) {
    telemetry.log({
      level: 'error',
      msg: 'maintenance run failed',
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
    });
    throw error;
  } finally {
    const storage = storageErrors.drain();
    if (storage.length > 0) telemetry.metrics.publish(storage, { function: 'maintenance' });
  }
};
