import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
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

export const handler = async () => {
  const report = await job.run();
  console.log(JSON.stringify({ level: 'info', msg: 'maintenance run', ...report }));
  return report;
};
