import type { Runnel } from './client';
import { checkOption, RunnelError } from './errors';
import { type BackoffOptions, backoffDelay, seg, sleep } from './http';
import { AsyncQueue, type Deferred, deferred } from './queue';
import type { Assignment, CommittedOffset, ConsumedRecord, Encoding } from './types';

/** Options of {@link Consumer}. Every option has a default; out-of-range values throw. */
export interface ConsumerOptions {
  /** The consumer group. */
  groupId: string;
  /** Topics to consume. */
  topics: string[];
  /** The member is removed after this long without a heartbeat (10000..300000). @default 45000 */
  sessionTimeoutMs?: number;
  /** Heartbeats are sent this often, on their own timer, whatever the handler does. @default 3000 */
  heartbeatIntervalMs?: number;
  /** Where a partition with no committed offset starts. @default 'latest' */
  autoOffsetReset?: 'earliest' | 'latest';
  /**
   * `true`: commit each batch's offsets after it is processed (before its partition is
   * read again, without waiting for the answer); `{ intervalMs }`: commit what was
   * processed on an interval; `false`: only {@link Consumer.commit}. @default true
   */
  autoCommit?: boolean | { intervalMs: number };
  /** Records per partition fetch. @default 500 */
  maxRecords?: number;
  /** Bytes per partition fetch. @default 1048576 */
  maxBytes?: number;
  /** Long-poll wait of a partition fetch (0..20000 ms). @default 5000 */
  waitMs?: number;
  /** How keys and values arrive. @default 'utf8' */
  encoding?: Encoding;
  /** Backoff between retries of failed calls. @default { initialMs: 100, maxMs: 5000 } */
  retryBackoff?: BackoffOptions;
  /** Closing the signal closes the consumer (commit, leave). */
  signal?: AbortSignal;
  /** Called with newly assigned partitions before they are read. */
  onAssigned?: (partitions: Assignment[]) => void | Promise<void>;
  /** Called with partitions taken away, after their in-progress batch has finished, before the commit of what was processed. */
  onRevoked?: (partitions: Assignment[]) => void | Promise<void>;
}

/** Records of one partition handed to the application. */
export interface ConsumerBatch {
  /** The topic. */
  topic: string;
  /** The partition. */
  partition: number;
  /** Records in offset order. */
  records: ConsumedRecord[];
  /** The partition's high watermark at the fetch. */
  highWatermark: number;
}

/** Arguments of an `eachMessage` handler. */
export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumedRecord;
}

/** Arguments of an `eachBatch` handler. */
export interface EachBatchPayload {
  batch: ConsumerBatch;
  /**
   * Marks records up to and including `offset` as processed (for a commit) before the
   * handler returns. Returning marks the whole batch.
   */
  resolveOffset(offset: number): void;
}

/** Handlers of {@link Consumer.run}: exactly one of `eachMessage` or `eachBatch`. */
export interface RunOptions {
  /** Called for each record, in offset order per partition. */
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  /** Called for each partition batch. */
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
  /** Batches of different partitions processed at once. @default 1 */
  partitionsConsumedConcurrently?: number;
  /** With `eachBatch`: a batch whose handler returns counts as processed whole; `false`: only what `resolveOffset` marked. @default true */
  eachBatchAutoResolve?: boolean;
}

/** What {@link Consumer.on} reports. */
export interface ConsumerEvents {
  /** Joined the group (also after a re-join). */
  group_join: { memberId: string; generation: number; assignments: Assignment[] };
  /** A heartbeat was answered. */
  heartbeat: { generation: number };
  /** The assignment changed: a new generation, what was added and what was revoked. */
  rebalance: { generation: number; assigned: Assignment[]; revoked: Assignment[] };
  /** Offsets were committed. */
  commit: { generation: number; offsets: CommittedOffset[] };
  /** A handler or the consumer failed; the consumer stops. */
  crash: { error: unknown };
  /** The consumer left the group and stopped. */
  stop: Record<string, never>;
}

interface PartitionState {
  topic: string;
  partition: number;
  position: number | 'earliest' | 'latest';
  processed: number | undefined;
  committed: number | undefined;
  paused: boolean;
  revoked: boolean;
  fetchAbort: AbortController;
  wake: Deferred | undefined;
  /** Set by seek while a batch is out: where to continue after it. */
  seekTo: number | undefined;
  /** Bumped by seek: a batch fetched under an older epoch is dropped. */
  epoch: number;
  busy: Deferred | undefined;
}

interface QueuedBatch {
  state: PartitionState;
  epoch: number;
  batch: ConsumerBatch;
  done: Deferred;
}

/** Pause between fetches of an idle partition when `waitMs` is 0. */
const IDLE_POLL_MS = 200;

const tp = (topic: string, partition: number) => `${topic}\u0000${partition}`;

const group = (parts: { topic: string; partition: number }[]): Assignment[] => {
  const by = new Map<string, number[]>();
  for (const p of parts) by.set(p.topic, [...(by.get(p.topic) ?? []), p.partition]);
  return [...by.entries()].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
};

const isInt = (n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): n is number =>
  Number.isInteger(n) && (n as number) >= min && (n as number) <= max;

/**
 * A consumer-group member over stateless HTTP. It joins the group, heartbeats on its own
 * timer (a handler slower than the session timeout keeps its partitions), long-polls each
 * assigned partition from the group's committed offset, hands batches to your code, and
 * commits what was processed.
 *
 * A rebalance is computed by the service; this member learns of it from a heartbeat or a
 * refused commit (`rebalance_in_progress` carries the new assignment: the member carries
 * on with it, without re-joining). Only a member the group no longer knows (`fenced`)
 * joins again. {@link Consumer.close} commits and leaves, so its partitions move on
 * without a record processed twice.
 *
 * @example
 * ```ts
 * const consumer = runnel.consumer({ groupId: 'billing', topics: ['orders'], autoOffsetReset: 'earliest' });
 * await consumer.run({ eachMessage: async ({ message }) => console.log(message.offset, message.value) });
 * ```
 */
export class Consumer implements AsyncIterable<ConsumerBatch> {
  private readonly runnel: Runnel;
  private readonly o: Required<
    Omit<ConsumerOptions, 'signal' | 'onAssigned' | 'onRevoked' | 'retryBackoff' | 'encoding'>
  > &
    Pick<ConsumerOptions, 'onAssigned' | 'onRevoked' | 'encoding'> & { retryBackoff: BackoffOptions };
  private readonly partitions = new Map<string, PartitionState>();
  private readonly queue = new AsyncQueue<QueuedBatch>();
  private readonly listeners = new Map<keyof ConsumerEvents, Set<(e: never) => void>>();
  private readonly stop = new AbortController();
  private memberIdValue: string | undefined;
  private generationValue = -1;
  private started: Promise<void> | undefined;
  private rebalancing: Promise<void> = Promise.resolve();
  private commitChain: Promise<void> = Promise.resolve();
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private intervalTimer: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;
  private iteratorCurrent: QueuedBatch | undefined;
  private running = false;
  private target: Assignment[] = [];
  private isClosing = false;

  constructor(runnel: Runnel, options: ConsumerOptions) {
    checkOption(typeof options?.groupId === 'string' && options.groupId.length > 0, 'groupId is required.');
    checkOption(
      Array.isArray(options.topics) && options.topics.length > 0 && options.topics.every((t) => typeof t === 'string'),
      'topics must be a non-empty array of topic names.',
    );
    const o = {
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3_000,
      autoOffsetReset: 'latest' as const,
      autoCommit: true as ConsumerOptions['autoCommit'],
      maxRecords: 500,
      maxBytes: 1024 * 1024,
      waitMs: 5_000,
      retryBackoff: {},
      ...options,
    };
    checkOption(isInt(o.sessionTimeoutMs, 10_000, 300_000), 'sessionTimeoutMs must be 10000..300000.');
    checkOption(
      isInt(o.heartbeatIntervalMs, 1, o.sessionTimeoutMs - 1),
      'heartbeatIntervalMs must be ≥ 1 and below sessionTimeoutMs.',
    );
    checkOption(
      o.autoOffsetReset === 'earliest' || o.autoOffsetReset === 'latest',
      "autoOffsetReset is 'earliest' or 'latest'.",
    );
    checkOption(
      typeof o.autoCommit === 'boolean' ||
        (typeof o.autoCommit === 'object' && o.autoCommit !== null && isInt(o.autoCommit.intervalMs, 1)),
      'autoCommit is true, false or { intervalMs }.',
    );
    checkOption(isInt(o.maxRecords, 1), 'maxRecords must be a positive integer.');
    checkOption(isInt(o.maxBytes, 1), 'maxBytes must be a positive integer.');
    checkOption(isInt(o.waitMs, 0, 20_000), 'waitMs must be 0..20000.');
    this.runnel = runnel;
    this.o = o as typeof this.o;
    options.signal?.addEventListener('abort', () => void this.close().catch(() => {}), { once: true });
  }

  /** The member id in the group (after the first join). */
  get memberId(): string | undefined {
    return this.memberIdValue;
  }

  /** The generation of the current assignment (-1 before the first join). */
  get generation(): number {
    return this.generationValue;
  }

  /** The partitions currently assigned. */
  assignment(): Assignment[] {
    return group([...this.partitions.values()].filter((s) => !s.revoked));
  }

  /** Listens to an event; returns a function that removes the listener. */
  on<E extends keyof ConsumerEvents>(event: E, listener: (payload: ConsumerEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (e: never) => void);
    return () => set.delete(listener as (e: never) => void);
  }

  private emit<E extends keyof ConsumerEvents>(event: E, payload: ConsumerEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as (p: ConsumerEvents[E]) => void)(payload);
      } catch {}
    }
  }

  /** Joins the group (done by {@link Consumer.run} and iteration when needed). */
  connect(): Promise<void> {
    this.started ??= this.join().then(() => {
      this.scheduleHeartbeat();
      const ac = this.o.autoCommit;
      if (typeof ac === 'object') {
        this.intervalTimer = setInterval(() => void this.commit().catch(() => {}), ac.intervalMs);
      }
    });
    return this.started;
  }

  /**
   * Processes batches with your handler until {@link Consumer.close} (or the signal).
   * Rejects with the handler's error (after committing what was processed and leaving).
   */
  async run(handlers: RunOptions): Promise<void> {
    checkOption(
      (handlers.eachMessage === undefined) !== (handlers.eachBatch === undefined),
      'run() takes exactly one of eachMessage or eachBatch.',
    );
    const concurrency = handlers.partitionsConsumedConcurrently ?? 1;
    checkOption(isInt(concurrency, 1), 'partitionsConsumedConcurrently must be a positive integer.');
    checkOption(!this.running, 'run() or iteration is already in progress.');
    this.running = true;
    await this.connect();
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (!failure) {
        const item = await this.queue.next();
        if (item.done) return;
        const q = item.value;
        try {
          await this.process(q, handlers);
        } catch (error) {
          failure ??= { error };
        } finally {
          this.finish(q);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (failure) {
      this.emit('crash', { error: failure.error });
      await this.close().catch(() => {});
      throw failure.error;
    }
  }

  private async process(q: QueuedBatch, handlers: RunOptions): Promise<void> {
    const { state, batch } = q;
    if (!this.isCurrent(q)) return;
    if (handlers.eachBatch) {
      let resolved: number | undefined;
      try {
        await handlers.eachBatch({
          batch,
          resolveOffset: (offset) => {
            resolved = offset;
            if (this.isCurrent(q)) state.processed = offset + 1;
          },
        });
      } catch (error) {
        this.rewind(q, resolved === undefined ? (batch.records[0]?.offset ?? 0) : resolved + 1);
        throw error;
      }
      const last = batch.records[batch.records.length - 1];
      if (handlers.eachBatchAutoResolve !== false && last && this.isCurrent(q)) state.processed = last.offset + 1;
      if (handlers.eachBatchAutoResolve === false && resolved !== undefined && resolved < (last?.offset ?? 0)) {
        // The rest of the batch was not resolved: read it again.
        this.rewind(q, resolved + 1);
      }
      return;
    }
    for (const message of batch.records) {
      if (!this.isCurrent(q)) return;
      try {
        await handlers.eachMessage?.({ topic: batch.topic, partition: batch.partition, message });
      } catch (error) {
        this.rewind(q, message.offset);
        throw error;
      }
      if (this.isCurrent(q)) state.processed = message.offset + 1;
    }
  }

  /** After a handler failure the partition continues at the failed record (if the consumer is kept). */
  private rewind(q: QueuedBatch, offset: number): void {
    if (this.isCurrent(q)) q.state.seekTo = offset;
  }

  private isCurrent(q: QueuedBatch): boolean {
    return (
      !q.state.revoked &&
      q.epoch === q.state.epoch &&
      this.partitions.get(tp(q.state.topic, q.state.partition)) === q.state
    );
  }

  /** A batch is done: auto-commit, and let its partition fetch again. */
  private finish(q: QueuedBatch): void {
    if (this.o.autoCommit === true && this.isCurrent(q)) void this.commit().catch(() => {});
    q.done.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerBatch> {
    checkOption(!this.running, 'run() or iteration is already in progress.');
    this.running = true;
    return {
      next: async () => {
        // Asking for the next batch means the previous one is processed.
        const previous = this.iteratorCurrent;
        this.iteratorCurrent = undefined;
        if (previous) {
          const last = previous.batch.records[previous.batch.records.length - 1];
          if (last && this.isCurrent(previous)) previous.state.processed = last.offset + 1;
          this.finish(previous);
        }
        await this.connect();
        for (;;) {
          const item = await this.queue.next();
          if (item.done) return { value: undefined, done: true };
          if (!this.isCurrent(item.value)) {
            item.value.done.resolve();
            continue;
          }
          this.iteratorCurrent = item.value;
          return { value: item.value.batch, done: false };
        }
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Commits offsets: by default the next offset after every processed record of every
   * assigned partition; or exactly the given ones (Kafka's convention: the next offset to read).
   */
  commit(offsets?: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (offsets) {
      for (const o of offsets) {
        const s = this.partitions.get(tp(o.topic, o.partition));
        checkOption(
          s !== undefined && !s.revoked,
          `partition ${o.topic}/${o.partition} is not assigned to this member.`,
        );
        checkOption(isInt(o.offset, 0), 'offset must be an integer ≥ 0.');
        (s as PartitionState).processed = o.offset;
      }
    }
    // One commit at a time, in order: a later commit never carries older offsets than an earlier one.
    const run = this.commitChain.then(() => this.commitProcessed());
    this.commitChain = run.catch(() => {});
    return run;
  }

  private async commitProcessed(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const memberId = this.memberIdValue;
      if (!memberId) return;
      const states = [...this.partitions.values()].filter(
        (s) => !s.revoked && s.processed !== undefined && s.processed !== s.committed,
      );
      if (states.length === 0) return;
      const offsets = states.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.processed as number }));
      const generation = this.generationValue;
      try {
        await this.runnel.groups.commit(this.o.groupId, offsets, { memberId, generation });
        offsets.forEach((o, i) => {
          (states[i] as PartitionState).committed = o.offset;
        });
        this.emit('commit', { generation, offsets });
        return;
      } catch (error) {
        if (!(error instanceof RunnelError) || attempt >= 8 || this.stop.signal.aborted) throw error;
        if (error.code === 'rebalance_in_progress' && error.generation !== undefined && error.assignments) {
          // A live member with an old generation: carry on with the current assignment and
          // commit again what is still ours (no re-join).
          void this.rebalance(error.generation, error.assignments, false);
          continue;
        }
        if (error.code === 'rebalance_in_progress' || error.code === 'fenced') {
          // Older servers answer a stale generation with `fenced` too: a heartbeat tells
          // a live member (carry on) from one the group forgot (re-join, in the background).
          if (await this.heartbeat()) continue;
          throw error;
        }
        if (!error.retriable) throw error;
        await sleep(backoffDelay(attempt, this.o.retryBackoff, error.retryAfterMs), this.stop.signal).catch(() => {});
      }
    }
  }

  /** Continues a partition at `offset` (the next fetch reads from there). */
  seek(target: { topic: string; partition: number; offset: number }): void {
    const s = this.partitions.get(tp(target.topic, target.partition));
    checkOption(s !== undefined && !s.revoked, `partition ${target.topic}/${target.partition} is not assigned.`);
    checkOption(isInt(target.offset, 0), 'offset must be an integer ≥ 0.');
    const state = s as PartitionState;
    state.epoch++;
    state.position = target.offset;
    state.seekTo = undefined;
    state.processed = target.offset;
    this.queue
      .remove((q) => q.state === state)
      .forEach((q) => {
        q.done.resolve();
      });
    state.fetchAbort.abort();
    state.fetchAbort = new AbortController();
    state.busy?.resolve();
  }

  /** Stops fetching the given partitions (all of a topic's when `partitions` is left out). */
  pause(targets: { topic: string; partitions?: number[] }[]): void {
    for (const s of this.matching(targets)) {
      s.paused = true;
      s.fetchAbort.abort();
      s.fetchAbort = new AbortController();
    }
  }

  /** Resumes paused partitions. */
  resume(targets: { topic: string; partitions?: number[] }[]): void {
    for (const s of this.matching(targets)) {
      s.paused = false;
      s.wake?.resolve();
    }
  }

  /** The paused partitions. */
  paused(): Assignment[] {
    return group([...this.partitions.values()].filter((s) => s.paused && !s.revoked));
  }

  private matching(targets: { topic: string; partitions?: number[] }[]): PartitionState[] {
    return [...this.partitions.values()].filter((s) =>
      targets.some((t) => t.topic === s.topic && (t.partitions === undefined || t.partitions.includes(s.partition))),
    );
  }

  /** Commits what was processed, leaves the group (its partitions move on at once) and stops. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.isClosing = true;
      // Stop fetching; let the batch in progress finish; commit; leave.
      for (const s of this.partitions.values()) s.fetchAbort.abort();
      const inProgress = [...this.partitions.values()].map((s) => s.busy?.promise);
      this.queue
        .remove(() => true)
        .forEach((q) => {
          q.done.resolve();
        });
      this.queue.close();
      if (this.iteratorCurrent) {
        const cur = this.iteratorCurrent;
        this.iteratorCurrent = undefined;
        const last = cur.batch.records[cur.batch.records.length - 1];
        if (last && this.isCurrent(cur)) cur.state.processed = last.offset + 1;
        cur.done.resolve();
      }
      await Promise.all(inProgress);
      clearTimeout(this.heartbeatTimer);
      clearInterval(this.intervalTimer);
      let failure: unknown;
      if (this.memberIdValue && this.o.autoCommit !== false) await this.commit().catch((e) => (failure = e));
      this.stop.abort(new RunnelError('closed', 0, 'The consumer is closed.', { retriable: false }));
      await this.rebalancing.catch(() => {});
      const memberId = this.memberIdValue;
      if (memberId) {
        await this.runnel
          .request('DELETE', `/v1/groups/${seg(this.o.groupId)}/members/${seg(memberId)}`)
          .catch((e) => (failure ??= e));
      }
      this.memberIdValue = undefined;
      this.partitions.clear();
      this.emit('stop', {});
      if (failure && !(failure instanceof RunnelError && (failure.code === 'fenced' || failure.code === 'closed'))) {
        throw failure;
      }
    })();
    return this.closing;
  }

  private async join(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stop.signal.aborted) throw this.stop.signal.reason;
      try {
        const res = await this.runnel.request<{ memberId: string; generation: number; assignments: Assignment[] }>(
          'POST',
          `/v1/groups/${seg(this.o.groupId)}/members`,
          {
            body: {
              topics: this.o.topics,
              sessionTimeoutMs: this.o.sessionTimeoutMs,
              autoOffsetReset: this.o.autoOffsetReset,
            },
          },
        );
        this.memberIdValue = res.memberId;
        this.emit('group_join', res);
        await this.rebalance(res.generation, res.assignments, true);
        return;
      } catch (error) {
        if (!(error instanceof RunnelError) || !error.retriable || attempt >= 10) throw error;
        await sleep(backoffDelay(attempt, this.o.retryBackoff, error.retryAfterMs), this.stop.signal);
      }
    }
  }

  private scheduleHeartbeat(): void {
    if (this.stop.signal.aborted) return;
    this.heartbeatTimer = setTimeout(() => {
      void this.heartbeat()
        .catch(() => {})
        .finally(() => this.scheduleHeartbeat());
    }, this.o.heartbeatIntervalMs);
  }

  /**
   * One heartbeat; a new generation starts a rebalance, `fenced` a re-join (in the
   * background). Never waits for a handler. Resolves whether the member is live.
   */
  private async heartbeat(): Promise<boolean> {
    const memberId = this.memberIdValue;
    if (!memberId || this.stop.signal.aborted) return false;
    try {
      const res = await this.runnel.request<{ generation: number; assignments: Assignment[] }>(
        'POST',
        `/v1/groups/${seg(this.o.groupId)}/members/${seg(memberId)}/heartbeat`,
        { signal: this.stop.signal },
      );
      if (memberId !== this.memberIdValue) return false;
      this.emit('heartbeat', { generation: res.generation });
      if (res.generation !== this.generationValue) void this.rebalance(res.generation, res.assignments, false);
      return true;
    } catch (error) {
      if (error instanceof RunnelError && error.code === 'fenced' && memberId === this.memberIdValue) {
        void this.rejoin().catch((e) => {
          if (!this.stop.signal.aborted) this.emit('crash', { error: e });
        });
        return false;
      }
      throw error;
    }
  }

  private rejoin(): Promise<void> {
    const run = this.rebalancing.then(async () => {
      if (this.stop.signal.aborted) return;
      this.memberIdValue = undefined;
      await this.revoke([...this.partitions.values()]);
    });
    this.rebalancing = run.catch(() => {});
    return run.then(() => this.join());
  }

  /**
   * Moves to a new generation's assignment. At once: the generation is taken and the
   * partitions no longer listed stop (no more fetches, queued batches dropped). Then, one
   * rebalance at a time: their batch in progress finishes, `onRevoked`; new partitions are
   * read from the group's committed offsets after `onAssigned`.
   */
  private rebalance(generation: number, assignments: Assignment[], joined: boolean): Promise<void> {
    if (this.stop.signal.aborted || (!joined && generation <= this.generationValue)) return this.rebalancing;
    this.generationValue = generation;
    this.target = assignments;
    const wanted = new Set<string>();
    for (const a of assignments) for (const p of a.partitions) wanted.add(tp(a.topic, p));
    const revoked = [...this.partitions.values()].filter((s) => !s.revoked && !wanted.has(tp(s.topic, s.partition)));
    this.stopPartitions(revoked);
    const run = this.rebalancing.then(async () => {
      if (this.stop.signal.aborted) return;
      await this.revoke(revoked);
      // A newer generation arrived meanwhile: it adds what it assigns. A closing member adds nothing.
      if (generation !== this.generationValue || this.isClosing) return;
      const added: { topic: string; partition: number }[] = [];
      for (const a of this.target)
        for (const partition of a.partitions)
          if (!this.partitions.has(tp(a.topic, partition))) added.push({ topic: a.topic, partition });
      if (added.length > 0) await this.assign(added);
      if (revoked.length > 0 || added.length > 0 || joined) {
        this.emit('rebalance', { generation, assigned: group(added), revoked: group(revoked) });
      }
    });
    this.rebalancing = run.catch((error) => {
      if (!this.stop.signal.aborted) this.emit('crash', { error });
    });
    return run;
  }

  private stopPartitions(states: PartitionState[]): void {
    for (const s of states) {
      s.revoked = true;
      s.fetchAbort.abort();
      s.wake?.resolve();
    }
    this.queue
      .remove((q) => states.includes(q.state))
      .forEach((q) => {
        q.done.resolve();
      });
  }

  private async revoke(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    this.stopPartitions(states);
    await Promise.all(states.map((s) => s.busy?.promise));
    for (const s of states)
      if (this.partitions.get(tp(s.topic, s.partition)) === s) this.partitions.delete(tp(s.topic, s.partition));
    await this.o.onRevoked?.(group(states));
  }

  private async assign(added: { topic: string; partition: number }[]): Promise<void> {
    const memberId = this.memberIdValue;
    if (!memberId) return;
    // A member fetch claims the member's partitions for this generation: a commit from
    // their previous owner that is still on its way can no longer land after we read.
    await this.runnel
      .request('GET', `/v1/groups/${seg(this.o.groupId)}/members/${seg(memberId)}/records`, {
        query: { maxRecords: 1, maxBytes: 1, waitMs: 0 },
        signal: this.stop.signal,
      })
      .catch(() => {});
    const committed = new Map<string, number>();
    for (const topic of new Set(added.map((a) => a.topic))) {
      const offsets = await this.runnel.groups.offsets(this.o.groupId, topic);
      for (const o of offsets) committed.set(tp(o.topic, o.partition), o.offset);
    }
    const states: PartitionState[] = added.map(({ topic, partition }) => {
      const c = committed.get(tp(topic, partition));
      return {
        topic,
        partition,
        position: c ?? this.o.autoOffsetReset,
        processed: c,
        committed: c,
        paused: false,
        revoked: false,
        fetchAbort: new AbortController(),
        wake: undefined,
        seekTo: undefined,
        epoch: 0,
        busy: undefined,
      };
    });
    for (const s of states) this.partitions.set(tp(s.topic, s.partition), s);
    await this.o.onAssigned?.(group(added));
    for (const s of states) {
      void this.fetchLoop(s).catch((error) => {
        if (!this.stop.signal.aborted && !s.revoked) {
          this.emit('crash', { error });
          this.queue.fail(error);
        }
      });
    }
  }

  /** One partition: fetch, hand over, wait until processed, fetch again. */
  private async fetchLoop(s: PartitionState): Promise<void> {
    for (let attempt = 0; !s.revoked && !this.isClosing && !this.stop.signal.aborted; ) {
      if (s.paused) {
        s.wake = deferred();
        await s.wake.promise;
        s.wake = undefined;
        continue;
      }
      const epoch = s.epoch;
      let result: Awaited<ReturnType<Runnel['fetch']>>;
      try {
        result = await this.runnel.fetch(s.topic, s.partition, {
          offset: s.position,
          maxRecords: this.o.maxRecords,
          maxBytes: this.o.maxBytes,
          waitMs: this.o.waitMs,
          signal: s.fetchAbort.signal,
          ...(this.o.encoding ? { encoding: this.o.encoding } : {}),
        });
        attempt = 0;
      } catch (error) {
        if (s.revoked || this.isClosing || this.stop.signal.aborted) return;
        // Aborted by seek or pause (which put a fresh controller in place): go round again.
        if (error instanceof RunnelError && (error.code === 'aborted' || s.epoch !== epoch)) continue;
        if (error instanceof RunnelError && error.code === 'offset_out_of_range') {
          s.position =
            this.o.autoOffsetReset === 'earliest'
              ? (error.logStartOffset ?? 'earliest')
              : (error.highWatermark ?? 'latest');
          continue;
        }
        if (error instanceof RunnelError && error.retriable) {
          await sleep(backoffDelay(attempt++, this.o.retryBackoff, error.retryAfterMs), this.stop.signal).catch(
            () => {},
          );
          continue;
        }
        throw error;
      }
      if (s.epoch !== epoch || s.revoked) continue;
      s.position = result.nextOffset;
      if (result.records.length === 0) {
        // Without a long poll, an idle partition is asked again after a pause, not in a tight loop.
        if (this.o.waitMs === 0) await sleep(IDLE_POLL_MS, this.stop.signal).catch(() => {});
        continue;
      }
      const done = deferred();
      s.busy = done;
      this.queue.push({
        state: s,
        epoch,
        batch: {
          topic: s.topic,
          partition: s.partition,
          records: result.records,
          highWatermark: result.highWatermark,
        },
        done,
      });
      await done.promise;
      s.busy = undefined;
      if (s.seekTo !== undefined && s.epoch === epoch) {
        s.position = s.seekTo;
        s.seekTo = undefined;
      }
    }
  }
}
