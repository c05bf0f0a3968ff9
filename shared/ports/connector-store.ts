import type { Connector, ConnectorState, ConnectorStatus } from '#shared/domain/connectors/config';
import { PortError } from '#shared/domain/errors';

/**
 * What the runtime keeps between steps, per connector; each field belongs to one kind.
 * Everything a retry must repeat exactly is written here before the side effect
 * (docs/connectors.md, "Crash points").
 */
export interface ConnectorRuntime {
  /** datagen: the topic incarnation the producer sequences belong to (a recreated topic starts at 0). */
  topicId?: string;
  /** datagen: the next producer sequence. */
  sequence?: number;
  /** datagen: the rate is measured from here (set on start and resume). */
  rateFrom?: { at: number; records: number };
  /** datagen: the batch planned for `sequence`, produced again as it was after a crash. */
  pending?: { sequence: number; first: number; count: number; at: number };
  /** http-sink: failed attempts of the current batch, and when the next may start. */
  attempts?: number;
  nextAttemptAt?: number;
  /** s3-sink: the object planned per partition (`<topic>#<partition>`), written again as it was after a crash. */
  objects?: Record<string, { first: number; last: number }>;
}

export interface StoredConnector extends Connector {
  runtime: ConnectorRuntime;
}

/** Which connector the runtime should look at: one entry per connector, across tenants. */
export interface ConnectorRef {
  tenantId: string;
  name: string;
  /** When the registration was written (the connector's createdAt); absent on refs built by hand. */
  registeredAt?: number;
}

/** A connector with that name exists already. */
export class ConnectorExistsError extends PortError {
  constructor(readonly connector: string) {
    super('connector_name_taken', `Connector ${connector} exists`);
  }
}

/** The worker's lease ran out and another worker took the connector, or the connector was deleted. */
export class ConnectorLeaseLostError extends PortError {
  constructor(readonly ref: ConnectorRef) {
    super('connector_lease_lost', `Lease on connector ${ref.tenantId}/${ref.name} lost`);
  }
}

export interface ConnectorChange {
  config?: Record<string, unknown>;
  state?: ConnectorState;
  updatedAt: number;
  /** Resets parts of the runtime (a resume restarts the rate and the retry count). */
  resetRuntime?: (keyof ConnectorRuntime)[];
}

export interface ConnectorProgress {
  runtime: ConnectorRuntime;
  status: ConnectorStatus;
}

export interface ConnectorStore {
  /** Stores a new connector and registers it with the runtime; {@link ConnectorExistsError} if the name is taken. */
  create(connector: StoredConnector): Promise<void>;
  get(tenantId: string, name: string): Promise<StoredConnector | undefined>;
  list(tenantId: string): Promise<StoredConnector[]>;
  /** Changes config and/or state of this incarnation; undefined if it no longer exists. */
  update(
    tenantId: string,
    name: string,
    connectorId: string,
    change: ConnectorChange,
  ): Promise<StoredConnector | undefined>;
  /** Deletes it (any incarnation); false if there was none. */
  delete(tenantId: string, name: string): Promise<boolean>;

  /** Every registered connector, across tenants (the runtime's work list). */
  registered(): Promise<ConnectorRef[]>;
  /** Drops a registration whose connector is gone. */
  unregister(ref: ConnectorRef): Promise<void>;
  /**
   * Takes or renews the connector's lease for `owner` if it is free, expired or already
   * the owner's (one conditional write) and returns the connector as it is now;
   * undefined when another worker holds it or the connector is gone.
   */
  acquire(ref: ConnectorRef, owner: string, now: number, leaseMs: number): Promise<StoredConnector | undefined>;
  /** Saves runtime and status while `owner` holds the lease on this incarnation; {@link ConnectorLeaseLostError} otherwise. */
  saveProgress(connector: StoredConnector, owner: string, progress: ConnectorProgress): Promise<void>;
  /** Records a transient error in the status (runtime untouched: a plan written ahead must survive). */
  noteError(connector: StoredConnector, owner: string, lastError: string, at: number): Promise<void>;
  /** Moves a running connector to `failed` or `completed` (no-op if a user paused or changed it meanwhile). */
  finish(
    connector: StoredConnector,
    owner: string,
    state: 'failed' | 'completed',
    error?: { lastError: string; lastErrorAt: number },
  ): Promise<void>;
  /** Frees the lease if `owner` holds it. */
  release(ref: ConnectorRef, owner: string): Promise<void>;
}
