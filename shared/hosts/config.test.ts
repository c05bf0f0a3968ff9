import { describe, expect, it } from 'vitest';
import { LOCAL_DESTINATIONS, STRICT_DESTINATIONS } from '#shared/domain/connectors/destination';
import {
  apiFunctionConfig,
  ConfigError,
  connectorWorkerFunctionConfig,
  localConfig,
  maintenanceFunctionConfig,
  parseEnv,
} from './config';

const storage = { RUNNEL_METADATA_TABLE: 'm', RUNNEL_LOG_TABLE: 'l', RUNNEL_SEGMENT_BUCKET: 'b' };

describe('host configuration from the environment', () => {
  it('gives both functions their storage and telemetry names', () => {
    const env = { ...storage, RUNNEL_SERVICE_NAME: 'svc', RUNNEL_S3_FORCE_PATH_STYLE: 'true' };
    const api = apiFunctionConfig({ ...env, RUNNEL_CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(api.storage).toEqual({ tables: { metadata: 'm', log: 'l' }, bucket: 'b' });
    expect(api.s3ForcePathStyle).toBe(true);
    expect(api.telemetry).toEqual({ serviceName: 'svc', namespace: undefined });
    expect(api.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    const maintenance = maintenanceFunctionConfig({ ...env, RUNNEL_COMPACTION_TARGET_BYTES: '1024' });
    expect(maintenance.storage).toEqual(api.storage);
    expect(maintenance.options).toEqual({ targetBytes: 1024 });
  });

  it("gives the API the stream endpoint's URL for its console, and refuses one that is not https", () => {
    const url = 'https://abc.lambda-url.eu-west-1.on.aws/';
    expect(apiFunctionConfig({ ...storage, RUNNEL_STREAM_URL: url }).streamUrl).toBe(url);
    expect(apiFunctionConfig(storage).streamUrl).toBeUndefined();
    expect(() => apiFunctionConfig({ ...storage, RUNNEL_STREAM_URL: 'http://a.example/' })).toThrow(
      /RUNNEL_STREAM_URL/,
    );
    expect(() => apiFunctionConfig({ ...storage, RUNNEL_STREAM_URL: 'not a url' })).toThrow(/RUNNEL_STREAM_URL/);
  });

  it('refuses a function without its table and bucket names', () => {
    expect(() => maintenanceFunctionConfig({ RUNNEL_METADATA_TABLE: 'm' })).toThrow(/RUNNEL_LOG_TABLE/);
    expect(() => apiFunctionConfig({})).toThrow(ConfigError);
  });

  it('names every bad variable in one message', () => {
    const message = (() => {
      try {
        parseEnv({ PORT: '99999', RUNNEL_ORPHAN_GRACE_MS: '-1', RUNNEL_S3_FORCE_PATH_STYLE: 'yes' });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message?.split('; ')).toHaveLength(3);
    for (const name of ['PORT', 'RUNNEL_ORPHAN_GRACE_MS', 'RUNNEL_S3_FORCE_PATH_STYLE'])
      expect(message).toContain(name);
    expect(() => parseEnv({ RUNNEL_EXACTLY_ONCE_LEASE_MS: '1000', RUNNEL_EXACTLY_ONCE_SETTLE_MS: '1000' })).toThrow(
      /RUNNEL_EXACTLY_ONCE_SETTLE_MS/,
    );
    expect(() => parseEnv({ RUNNEL_OPERATOR_KEY_HASH: 'not-a-hash' })).toThrow(/RUNNEL_OPERATOR_KEY_HASH/);
  });

  it('gives local mode its defaults, and takes empty values as unset', () => {
    expect(localConfig({ PORT: '', RUNNEL_DEV_API_KEY: '' })).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '.runnel',
      devApiKey: undefined,
      maintenanceIntervalMs: 60_000,
      exactlyOnceTiming: { leaseMs: 60_000, settleMs: 15_000 },
    });
    expect(localConfig({ PORT: '0', RUNNEL_MAINTENANCE_INTERVAL_MS: '0' })).toMatchObject({
      port: 0,
      maintenanceIntervalMs: 0,
    });
  });

  it('keeps connectors to public https destinations in AWS unless told otherwise, and allows loopback locally', () => {
    expect(connectorWorkerFunctionConfig(storage)).toMatchObject({
      connectorDestinations: STRICT_DESTINATIONS,
      connectorTickMs: 1000,
    });
    expect(apiFunctionConfig(storage).connectorDestinations).toEqual(STRICT_DESTINATIONS);
    expect(localConfig({})).toMatchObject({ connectorDestinations: LOCAL_DESTINATIONS, connectorTickMs: 250 });
    expect(localConfig({ RUNNEL_CONNECTOR_DESTINATIONS: 'strict', RUNNEL_CONNECTOR_TICK_MS: '0' })).toMatchObject({
      connectorDestinations: STRICT_DESTINATIONS,
      connectorTickMs: 0,
    });
    expect(() => localConfig({ RUNNEL_CONNECTOR_DESTINATIONS: 'open' })).toThrow(/RUNNEL_CONNECTOR_DESTINATIONS/);
    expect(() => localConfig({ RUNNEL_CONNECTOR_TICK_MS: '-5' })).toThrow(/RUNNEL_CONNECTOR_TICK_MS/);
  });
});
