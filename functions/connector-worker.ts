import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { awsPorts } from '#shared/adapters/aws';
import { AssumeRoleSinkObjectStore } from '#shared/adapters/s3/sink-object-store';
import { createSdkClients } from '#shared/adapters/sdk-clients';
import { createServices } from '#shared/app/create-app';
import { connectorWorkerFunctionConfig } from '#shared/hosts/config';
import { systemResolver } from '#shared/services/connectors/http-delivery';
import { ConnectorWorker, connectorWorkerDeps } from '#shared/services/connectors/worker';

// Built once per execution environment. The schedule starts the handler every minute;
// each invocation runs passes over the connectors until shortly before its timeout
// (docs/connectors.md, "Runtime in AWS").
const config = connectorWorkerFunctionConfig(process.env);
const { storage, s3ForcePathStyle, connectorTickMs: tickMs, connectorDestinations: destinations } = config;
const clients = createSdkClients({ s3ForcePathStyle });
const ports = awsPorts(clients, storage);
const services = createServices({ ...ports, operatorKeyHash: undefined });
const log = (entry: Record<string, unknown>) => console.log(JSON.stringify(entry));
const worker = new ConnectorWorker(
  connectorWorkerDeps(ports, services, new AssumeRoleSinkObjectStore(new STSClient({}), process.env.AWS_REGION)),
  { destinations, resolve: systemResolver, log },
);

/** Stop starting passes this long before Lambda's timeout, so the run frees its leases itself. */
const STOP_BEFORE_TIMEOUT_MS = 25_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = async (_event: unknown, context: Context) => {
  const stopAt = Date.now() + context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS;
  const totals = { passes: 0, stepped: 0, errors: 0, connectors: 0 };
  try {
    while (Date.now() < stopAt) {
      const pass = await worker.runOnce();
      totals.passes++;
      totals.stepped += pass.stepped;
      totals.errors += pass.errors;
      totals.connectors = pass.connectors;
      // Pacing between passes (not synchronisation): an idle sink polls its partitions once per tick.
      await pause(tickMs);
    }
  } finally {
    // The next invocation takes the connectors over at once instead of waiting for the leases to run out.
    await worker.stop();
  }
  log({ level: 'info', msg: 'connector worker run', ...totals });
  return totals;
};
