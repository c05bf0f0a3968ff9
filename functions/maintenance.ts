import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { maintenanceConfig } from '#shared/hosts/lambda-config';
import { MaintenanceJob } from '#shared/services/maintenance';

// Built once per execution environment; the schedule invokes `handler` every few minutes.
const config = maintenanceConfig(process.env);
const dynamodb = new DynamoDBClient({});
const s3 = new S3Client({
  forcePathStyle: config.s3ForcePathStyle,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const job = new MaintenanceJob(awsPorts({ dynamodb, s3 }, config.storage), config.options);

/** Stop starting work this long before Lambda's timeout, so the run ends (and frees its lease) itself. */
const STOP_BEFORE_TIMEOUT_MS = 30_000;

export const handler = async (_event: unknown, context: Context) => {
  const remaining = context.getRemainingTimeInMillis();
  const report = await job.run({
    maxRunMs: Math.max(0, Math.min(config.options.maxRunMs ?? remaining, remaining - STOP_BEFORE_TIMEOUT_MS)),
    // If the run is killed anyway, the next scheduled run may take over soon after the timeout.
    leaseMs: remaining + 60_000,
  });
  console.log(JSON.stringify({ level: 'info', msg: 'maintenance run', ...report }));
  return report;
};
