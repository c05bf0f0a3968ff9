import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { mulberry32 } from '#shared/domain/seeded-random';

/**
 * Fault injection for tests, as AWS SDK v3 middleware on both clients. It sits inside
 * the SDK's retry loop (deserialize step), so injected errors meet the same retry
 * strategy as real ones:
 *
 * - before the call reaches the store: throttling, 500, 503 SlowDown, connection reset;
 * - after the store applied it: the acknowledgement is lost (next() ran, then a reset);
 * - delays before the call, which reorder concurrent writers;
 * - crashes of one request (its async context, via AsyncLocalStorage): after the n-th
 *   matching call has been applied, that call and every later one of the request never
 *   return. The request is abandoned mid-way, as if its process had died there. Tests
 *   wait for `crashed` (it resolves when a crash fired), never for a while.
 */
export type FaultKind = 'throttle' | 'server-error' | 'slow-down' | 'connection-reset' | 'ack-lost' | 'delay';

export const FAULT_KINDS: readonly FaultKind[] = [
  'throttle',
  'server-error',
  'slow-down',
  'connection-reset',
  'ack-lost',
  'delay',
];

export interface FaultOptions {
  seed: number;
  /** Probability per SDK call (each attempt) of each fault. */
  rates: Partial<Record<FaultKind, number>>;
  /** @default 50 */
  maxDelayMs?: number;
  /**
   * Calls that still run once their request has died: work of the instance that other
   * requests wait on (in one process a hung call would hang them, which a real crash, taking
   * the whole instance down, cannot do). @default none
   */
  outlivesCrash?: (input: Record<string, unknown>) => boolean;
}

/** Where a request dies: after the `count`-th call of `operation` (on a table whose name ends with `table`) landed. */
export interface CrashPoint {
  operation: 'PutItem' | 'UpdateItem' | 'PutObject' | 'Query';
  table?: 'log' | 'metadata';
  /** Only calls whose input matches count (e.g. the claim's completion among other updates). */
  match?: (input: Record<string, unknown>) => boolean;
  count: number;
}

export const crashPointName = (p: CrashPoint) => `after ${p.operation}${p.table ? ` (${p.table})` : ''} #${p.count}`;

interface RequestContext {
  crashAfter: CrashPoint | undefined;
  seen: number;
  crashed: boolean;
  onCrash?: () => void;
}

/** Runs are reproducible from their seed. */
export const seededPrng = mulberry32;

const sdkError = (name: string, status: number, message: string) =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });

const resetError = () => Object.assign(new Error('socket hang up (injected)'), { code: 'ECONNRESET' });

const never = () => new Promise<never>(() => {});

export class FaultInjector {
  /** Random faults are injected only while enabled (a drain turns them off). */
  enabled = true;
  readonly counts = new Map<string, number>();
  private readonly random: () => number;
  private readonly context = new AsyncLocalStorage<RequestContext>();
  private nextCrash!: Promise<string>;
  private fireCrash!: (point: string) => void;

  constructor(private readonly options: FaultOptions) {
    this.random = seededPrng(options.seed);
    this.armCrash();
  }

  private armCrash() {
    this.nextCrash = new Promise((resolve) => {
      this.fireCrash = resolve;
    });
  }

  /**
   * Resolves (with the crash point's name) when the next crash fault fires: a request has
   * died and will never answer. Take it before starting the request:
   *
   *     const crashed = faults.crashed;
   *     const outcome = await Promise.race([crashed, faults.runRequest({ crashAfter }, produce)]);
   */
  get crashed(): Promise<string> {
    return this.nextCrash;
  }

  private count(kind: string) {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** Runs `fn` as one request that dies at `crashAfter`, if given. */
  runRequest<T>(faults: { crashAfter?: CrashPoint; onCrash?: () => void }, fn: () => Promise<T>): Promise<T> {
    return this.context.run({ crashAfter: faults.crashAfter, seen: 0, crashed: false, onCrash: faults.onCrash }, fn);
  }

  attach(clients: { dynamodb: DynamoDBClient; s3: S3Client }): void {
    this.attachTo(clients.dynamodb as unknown as Stackable, 'DynamoDB');
    this.attachTo(clients.s3 as unknown as Stackable, 'S3');
  }

  private pick(): FaultKind | undefined {
    if (!this.enabled) return undefined;
    const r = this.random();
    let at = 0;
    for (const kind of FAULT_KINDS) {
      at += this.options.rates[kind] ?? 0;
      if (r < at) return kind;
    }
    return undefined;
  }

  private attachTo(client: Stackable, service: 'DynamoDB' | 'S3'): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName).replace(/Command$/, '');
        const table = String((args.input as { TableName?: string }).TableName ?? '');
        const request = this.context.getStore();
        if (request?.crashed && !this.options.outlivesCrash?.(args.input as Record<string, unknown>)) return never();
        const crashHere =
          request?.crashAfter !== undefined &&
          request.crashAfter.operation === operation &&
          (request.crashAfter.table === undefined || table.endsWith(request.crashAfter.table)) &&
          (request.crashAfter.match === undefined || request.crashAfter.match(args.input as Record<string, unknown>)) &&
          ++request.seen === request.crashAfter.count;
        const fault = crashHere ? undefined : this.pick();
        if (fault) this.count(fault);
        switch (fault) {
          case 'throttle':
            throw service === 'S3'
              ? sdkError('SlowDown', 503, 'Please reduce your request rate (injected)')
              : sdkError('ThrottlingException', 400, 'Rate of requests exceeds the allowed throughput (injected)');
          case 'server-error':
            throw sdkError(
              service === 'S3' ? 'InternalError' : 'InternalServerError',
              500,
              'Internal error (injected)',
            );
          case 'slow-down':
            throw sdkError(service === 'S3' ? 'SlowDown' : 'ServiceUnavailable', 503, 'Service unavailable (injected)');
          case 'connection-reset':
            throw resetError();
          case 'delay':
            await new Promise((r) => setTimeout(r, this.random() * (this.options.maxDelayMs ?? 50)));
            break;
          default:
        }
        let output: unknown;
        try {
          output = await next(args);
        } catch (error) {
          // The store answered (a failed condition, say): the request still dies here.
          if (!(crashHere && request)) throw error;
        }
        if (crashHere && request) {
          request.crashed = true;
          const point = crashPointName(request.crashAfter as CrashPoint);
          this.count(`crash ${point}`);
          request.onCrash?.();
          const fire = this.fireCrash;
          this.armCrash();
          fire(point);
          return never();
        }
        if (fault === 'ack-lost') throw resetError();
        return output;
      },
      { step: 'deserialize', priority: 'high', name: `runnelFaults${service}`, override: true },
    );
  }
}

/** The part of an SDK client's middleware stack used here (one signature for both clients). */
interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'deserialize'; priority: 'high'; name: string; override: boolean },
    ): void;
  };
}
