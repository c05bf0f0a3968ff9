import { Runnel } from '@runnel/client';
import type { Command } from 'commander';
import { type Connection, type GlobalOptions, resolveConnection } from './connection';
import { CommandError } from './errors';
import { Output } from './output';

/** What every command's action gets: the output, and clients built from the resolved connection. */
export interface Context {
  out: Output;
  connection: Connection;
  /** A client with the tenant key. */
  client(): Runnel;
  /** A client with the operator key (`runnel tenant …`). */
  operatorClient(): Runnel;
  /** HTTP requests made so far (for summaries: produce's cost is requests, not records). */
  requests(): number;
}

export const contextOf = (command: Command): Context => {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const out = new Output({ json: Boolean(globals.json) });
  const connection = resolveConnection(globals);
  let requests = 0;
  const fetch = (input: string, init: RequestInit) => {
    requests++;
    return globalThis.fetch(input, init);
  };
  return {
    requests: () => requests,
    out,
    connection,
    client: () => {
      if (!connection.apiKey) {
        throw new CommandError(
          'no API key: pass --api-key, set RUNNEL_API_KEY, add a profile (runnel profile add), or start a local server (runnel dev)',
          'unauthorized',
        );
      }
      return new Runnel({ url: connection.url, apiKey: connection.apiKey, fetch });
    },
    operatorClient: () => {
      if (!connection.operatorKey) {
        throw new CommandError(
          'no operator key: pass --operator-key or set RUNNEL_OPERATOR_KEY (a local server writes it to .runnel/local-keys.json)',
          'unauthorized',
        );
      }
      return new Runnel({ url: connection.url, apiKey: connection.operatorKey, fetch });
    },
  };
};
