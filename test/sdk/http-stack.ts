import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { type Stack, type StackOptions, startStack } from '../harness';

/** The real app over real HTTP on an ephemeral port, in front of the emulator stack: what the SDK talks to. */
export interface HttpStack {
  stack: Stack;
  url: string;
  close(): Promise<void>;
}

export const startHttpStack = async (options: StackOptions = {}): Promise<HttpStack> => {
  const stack = await startStack(options);
  const server = createAdaptorServer({ fetch: stack.app.fetch });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    stack,
    url: `http://127.0.0.1:${port}`,
    async close() {
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stack.close();
    },
  };
};

/** Resolves when `predicate` holds, re-checked whenever `subscribe`'s callback fires. */
export const when = (subscribe: (check: () => void) => () => void, predicate: () => boolean): Promise<void> =>
  new Promise((resolve) => {
    if (predicate()) return resolve();
    const off = subscribe(() => {
      if (predicate()) {
        off();
        resolve();
      }
    });
  });
