import { loadOnce } from '#shared/domain/load-once';

/** A port whose every member is an async method. */
type AsyncPort<T> = { [K in keyof T]: (...args: never[]) => Promise<unknown> };

/**
 * A port whose adapter module is imported, and the adapter built, on its first call. The
 * hosts build every port when they start, but an API instance should load only the
 * adapters its requests use: consumer groups, connectors and the maintenance job's items
 * are not on the produce and fetch path (docs/deploy.md, "Sizing and cold start").
 * `methods` names every method of the port (the compiler checks that none is missing);
 * each call is forwarded to the adapter, errors included.
 */
export const lazyPort = <T extends AsyncPort<T>>(load: () => Promise<T>, methods: Record<keyof T, true>): T => {
  const adapter = loadOnce(load);
  type Method = (...args: unknown[]) => Promise<unknown>;
  const port: Partial<Record<keyof T, Method>> = {};
  for (const name of Object.keys(methods) as (keyof T)[]) {
    port[name] = async (...args) => {
      const target = await adapter();
      return (target[name] as unknown as Method).apply(target, args);
    };
  }
  return port as unknown as T;
};
