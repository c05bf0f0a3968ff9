import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ConnectorChange,
  ConnectorExistsError,
  ConnectorLeaseLostError,
  type ConnectorProgress,
  type ConnectorRef,
  type ConnectorStore,
  type StoredConnector,
} from '#shared/ports/connector-store';
import { sendConditional } from './conditional';
import { strip, tenantPk } from './keys';
import { queryAll } from './query-all';

/**
 * Connectors in the metadata table:
 *
 *   pk                 sk                     item
 *   TENANT#<id>        CONNECTOR#<name>       the connector: config (with its write-only secrets),
 *                                             state, status, runtime, lease (leaseOwner, leaseUntil)
 *   CONNECTORS         <tenantId>#<name>      registration: the runtime's list of work, across tenants
 *
 * Registration is written before the connector and removed after it, so every connector
 * is registered; a crash leaves at most a registration without connector, which the
 * runtime drops when it finds no connector behind it.
 */
const REGISTRY_PK = 'CONNECTORS';
const connectorSk = (name: string) => `CONNECTOR#${name}`;
const registrySk = (ref: ConnectorRef) => `${ref.tenantId}#${ref.name}`;

const NAMES = { '#state': 'state', '#status': 'status', '#config': 'config', '#runtime': 'runtime' };

const connectorOf = (item: Record<string, unknown>): StoredConnector => {
  const { leaseOwner: _owner, leaseUntil: _until, ...rest } = strip<StoredConnector & Record<string, unknown>>(item);
  return { ...rest, runtime: rest.runtime ?? {}, status: rest.status ?? { records: 0 } } as StoredConnector;
};

export class DynamoDbConnectorStore implements ConnectorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(ref: ConnectorRef) {
    return { pk: tenantPk(ref.tenantId), sk: connectorSk(ref.name) };
  }

  async create(connector: StoredConnector): Promise<void> {
    const ref = { tenantId: connector.tenantId, name: connector.name };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: REGISTRY_PK, sk: registrySk(ref), ...ref, registeredAt: connector.createdAt },
      }),
    );
    const created = await sendConditional(
      this.client,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...this.key(ref), ...connector },
        ConditionExpression: 'attribute_not_exists(sk)',
      }),
    );
    if (!created) throw new ConnectorExistsError(connector.name);
  }

  async get(tenantId: string, name: string): Promise<StoredConnector | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key({ tenantId, name }), ConsistentRead: true }),
    );
    return result.Item ? connectorOf(result.Item) : undefined;
  }

  async list(tenantId: string): Promise<StoredConnector[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':prefix': 'CONNECTOR#' },
    });
    return items.map(connectorOf);
  }

  async update(
    tenantId: string,
    name: string,
    connectorId: string,
    change: ConnectorChange,
  ): Promise<StoredConnector | undefined> {
    const sets = ['updatedAt = :updatedAt'];
    const values: Record<string, unknown> = { ':updatedAt': change.updatedAt, ':id': connectorId };
    if (change.config) {
      sets.push('#config = :config');
      values[':config'] = change.config;
    }
    if (change.state) {
      sets.push('#state = :state');
      values[':state'] = change.state;
    }
    const removes = (change.resetRuntime ?? []).map((field) => `#runtime.${field}`);
    const result = await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key({ tenantId, name }),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'connectorId = :id',
        ExpressionAttributeNames: {
          ...(change.config ? { '#config': 'config' } : {}),
          ...(change.state ? { '#state': 'state' } : {}),
          ...(removes.length > 0 ? { '#runtime': 'runtime' } : {}),
        },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result?.Attributes ? connectorOf(result.Attributes) : undefined;
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    const result = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: this.key({ tenantId, name }), ReturnValues: 'ALL_OLD' }),
    );
    if (!result.Attributes) return false;
    // A crash before this leaves a registration without connector: the runtime drops it.
    await this.unregister({ tenantId, name });
    return true;
  }

  async registered(): Promise<ConnectorRef[]> {
    const items = await queryAll(this.client, this.tableName, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': REGISTRY_PK },
    });
    return items.map((item) => ({
      tenantId: String(item.tenantId),
      name: String(item.name),
      ...(typeof item.registeredAt === 'number' ? { registeredAt: item.registeredAt } : {}),
    }));
  }

  async unregister(ref: ConnectorRef): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: REGISTRY_PK, sk: registrySk(ref) } }),
    );
  }

  async acquire(ref: ConnectorRef, owner: string, now: number, leaseMs: number): Promise<StoredConnector | undefined> {
    const result = await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(ref),
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        // The connector exists, and its lease is free, expired, or ours already.
        ConditionExpression:
          'attribute_exists(sk) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now OR leaseOwner = :owner)',
        ExpressionAttributeValues: { ':owner': owner, ':until': now + leaseMs, ':now': now },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result?.Attributes ? connectorOf(result.Attributes) : undefined;
  }

  async saveProgress(connector: StoredConnector, owner: string, progress: ConnectorProgress): Promise<void> {
    const saved = await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(connector),
        UpdateExpression: 'SET #runtime = :runtime, #status = :status',
        ConditionExpression: 'connectorId = :id AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#runtime': NAMES['#runtime'], '#status': NAMES['#status'] },
        ExpressionAttributeValues: {
          ':runtime': progress.runtime,
          ':status': progress.status,
          ':id': connector.connectorId,
          ':owner': owner,
        },
      }),
    );
    if (!saved) throw new ConnectorLeaseLostError(connector);
  }

  async noteError(connector: StoredConnector, owner: string, lastError: string, at: number): Promise<void> {
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(connector),
        UpdateExpression: 'SET #status.lastError = :error, #status.lastErrorAt = :at',
        ConditionExpression: 'connectorId = :id AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#status': NAMES['#status'] },
        ExpressionAttributeValues: { ':error': lastError, ':at': at, ':id': connector.connectorId, ':owner': owner },
      }),
    );
  }

  async finish(
    connector: StoredConnector,
    owner: string,
    state: 'failed' | 'completed',
    error?: { lastError: string; lastErrorAt: number },
  ): Promise<void> {
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(connector),
        UpdateExpression: error
          ? 'SET #state = :state, #status.lastError = :error, #status.lastErrorAt = :at'
          : 'SET #state = :state',
        ConditionExpression: 'connectorId = :id AND leaseOwner = :owner AND #state = :running',
        ExpressionAttributeNames: { '#state': NAMES['#state'], ...(error ? { '#status': NAMES['#status'] } : {}) },
        ExpressionAttributeValues: {
          ':state': state,
          ':id': connector.connectorId,
          ':owner': owner,
          ':running': 'running',
          ...(error ? { ':error': error.lastError, ':at': error.lastErrorAt } : {}),
        },
      }),
    );
  }

  async release(ref: ConnectorRef, owner: string): Promise<void> {
    // A failed condition: the lease is not ours any more (or the connector is gone).
    await sendConditional(
      this.client,
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(ref),
        UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  }
}
