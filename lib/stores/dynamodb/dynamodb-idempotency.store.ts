import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
  StoreUses,
} from '../../interfaces/idempotency-store.interface.js';
import { classifyDynamoDbError, isConditionFailure } from './dynamodb-errors.js';
import { claimCondition, completeUpdate, extendUpdate, releaseCondition } from './dynamodb-expressions.js';
import { ATTRIBUTES, existingRecordOf, foundRecordOf, processingItem, type RecordItem } from './dynamodb-items.js';
import { partitionKeyOf } from './dynamodb-keys.js';
import { MAX_DYNAMODB_RESPONSE_BYTES, storableBody } from './dynamodb-limits.js';
import { verifyDynamoDbTable } from './dynamodb-table.js';

/** Options of {@link DynamoDbIdempotencyStore}. */
export interface DynamoDbIdempotencyStoreOptions {
  /** Name (or ARN) of the table: partition key `id` (string), TTL on `expires_at`. See `createDynamoDbIdempotencyTable()`. */
  table: string;
  /**
   * Milliseconds added to every judgment that a lease ran out: a processing
   * record is taken over only once its lease ended this long ago by the
   * claimer's clock. DynamoDB has no server clock in expressions, so leases
   * are written with the clock of the instance that claims; set it above the
   * largest clock difference between your instances. Default 1,000.
   */
  clockSkewMargin?: number;
  /** The clock leases and expiry are written and judged with (epoch ms). Default `Date.now`; tests pass a skewed one. */
  clock?: () => number;
}

/**
 * {@link IdempotencyStore} on Amazon DynamoDB through an `@aws-sdk/client-dynamodb`
 * (v3) `DynamoDBClient` the application created and destroys.
 *
 * A record is one item, its partition key the JSON of `[scope, principal, key]`.
 * Every operation is one conditional write: a claim is a PutItem that inserts
 * the item, or replaces it when expired or its lease ran out (`takenOver`
 * from the item it replaced), and reads the item in its way from the same
 * call (`ReturnValuesOnConditionCheckFailure`);
 * complete, release and extendLease are fenced by the claim's token. A first
 * execution costs 2 calls (claim, complete), a replay 1. An endpoint that does
 * not return the old item on a failed condition (dynalite) costs one more call
 * per refused claim: a strongly consistent GetItem.
 *
 * Leases and expiry come from the caller's clock (`clock`, with
 * `clockSkewMargin` on lease judgments). An expired item is absent to every
 * read; DynamoDB deletes it later by itself (TTL on `expires_at`), so
 * `purgeExpired()` has nothing to do. Wait mode and atomic mode are not
 * available: DynamoDB has no notifications and no interactive transactions.
 * Throttling, 5xx answers and network failures are thrown as
 * `IdempotencyStoreConnectionError`.
 *
 * @example
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDbIdempotencyStore } from 'nestjs-idempotency/dynamodb';
 *
 * IdempotencyModule.forRoot({
 *   store: new DynamoDbIdempotencyStore(new DynamoDBClient({}), { table: 'idempotency_records' }),
 *   maxResponseBytes: 256 * 1024, // must fit in a 400 KB item
 * });
 */
export class DynamoDbIdempotencyStore implements IdempotencyStore {
  private readonly table: string;
  private readonly margin: number;
  private readonly clock: () => number;

  /** @param client the store sends commands with it; it never configures or destroys it. */
  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoDbIdempotencyStoreOptions,
  ) {
    if (typeof options?.table !== 'string' || options.table === '') {
      throw new TypeError('DynamoDbIdempotencyStore: `table` must be the name of the table, e.g. { table: "idempotency_records" }.');
    }
    const margin = options.clockSkewMargin ?? 1_000;
    if (!Number.isFinite(margin) || margin < 0) {
      throw new TypeError(
        `DynamoDbIdempotencyStore: clockSkewMargin must be a number of milliseconds, 0 or more; got ${options.clockSkewMargin}.`,
      );
    }
    this.table = options.table;
    this.margin = margin;
    this.clock = options.clock ?? Date.now;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const now = this.clock();
    const endsAt = now + Math.ceil(request.lockTimeout);
    const id = partitionKeyOf(request);
    const Key = { [ATTRIBUTES.id]: { S: id } };
    const item = processingItem(id, request.fingerprint, request.token, endsAt, this.expiresAt(endsAt));
    try {
      // The item replaced comes back too (ALL_OLD, at no extra cost): a processing one was a lapsed lease.
      const { Attributes: replaced } = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ...claimCondition(now, this.margin),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return replaced?.[ATTRIBUTES.state]?.S === 'processing' ? { claimed: true, takenOver: true } : { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw classifyDynamoDbError(error);
      // DynamoDB returns the item in the way; an endpoint that does not (dynalite) costs a consistent read.
      const existing = (error.Item as RecordItem | undefined) ?? (await this.read(Key));
      return { claimed: false, existing: existing ? existingRecordOf(existing, this.clock(), this.margin) : null };
    }
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number): Promise<boolean> {
    const endsAt = this.clock() + Math.ceil(ttl);
    const headers = JSON.stringify(response.headers);
    const update = completeUpdate(token, response.status, headers, storableBody(response.body, headers), endsAt, this.expiresAt(endsAt));
    return fenced(this.client.send(new UpdateItemCommand({ TableName: this.table, Key: this.keyOf(id), ...update })));
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return fenced(this.client.send(new DeleteItemCommand({ TableName: this.table, Key: this.keyOf(id), ...releaseCondition(token) })));
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    const endsAt = this.clock() + Math.ceil(lockTimeout);
    const update = extendUpdate(token, endsAt, this.expiresAt(endsAt));
    return fenced(this.client.send(new UpdateItemCommand({ TableName: this.table, Key: this.keyOf(id), ...update })));
  }

  /**
   * Operator API: one strongly consistent GetItem; `null` for an item that is
   * absent or claimable by this store's clock and margin (as `claim()` judges).
   */
  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    const item = await this.read(this.keyOf(id));
    return item ? foundRecordOf(item, this.clock(), this.margin) : null;
  }

  /** Resolves 0: reads ignore expired items and DynamoDB deletes them by itself (TTL on `expires_at`). */
  async purgeExpired(_limit: number): Promise<number> {
    return 0;
  }

  /**
   * Checks at startup what the app asks of the store, then that the table
   * exists with the store's key schema (DescribeTable).
   * @throws IdempotencyConfigurationError for wait or atomic mode, a
   *   `maxResponseBytes` over what a 400 KB item holds, or a missing or wrong table.
   * @throws IdempotencyStoreConnectionError when DynamoDB is unreachable.
   */
  async verify(uses?: StoreUses): Promise<void> {
    if (uses?.transactions) {
      throw unable('Atomic mode (atomic: true, or execute() with a manager)', 'the TypeORM store on PostgreSQL or MySQL/MariaDB');
    }
    if (uses?.waiting) throw unable('The `wait` option', 'PostgreSQL, SQLite, Redis or in-memory; remove `wait` to answer duplicates 409');
    if (uses?.maxResponseBytes !== undefined && uses.maxResponseBytes > MAX_DYNAMODB_RESPONSE_BYTES) {
      throw new IdempotencyConfigurationError(
        `DynamoDbIdempotencyStore keeps an outcome in one item (at most 400 KB), but maxResponseBytes is ${uses.maxResponseBytes}. ` +
          `Set maxResponseBytes to ${MAX_DYNAMODB_RESPONSE_BYTES} or less in IdempotencyModule.forRoot() (and in any @Idempotent() that sets it).`,
      );
    }
    try {
      await verifyDynamoDbTable(this.client, this.table);
    } catch (error) {
      throw classifyDynamoDbError(error);
    }
  }

  /** The item at `Key`, strongly consistent; `undefined` when there is none. */
  private async read(Key: RecordItem): Promise<RecordItem | undefined> {
    try {
      return (await this.client.send(new GetItemCommand({ TableName: this.table, Key, ConsistentRead: true }))).Item;
    } catch (error) {
      throw classifyDynamoDbError(error);
    }
  }

  private keyOf(id: IdempotencyRecordId): RecordItem {
    return { [ATTRIBUTES.id]: { S: partitionKeyOf(id) } };
  }

  /** The TTL attribute for a record ending at `endsAt` ms: epoch seconds, after the lease margin, rounded up. */
  private expiresAt(endsAt: number): number {
    return Math.ceil((endsAt + this.margin) / 1000);
  }
}

/** The outcome of a write fenced by the token: `true` when made, `false` when its condition failed (the token lost the record). */
async function fenced(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw classifyDynamoDbError(error);
  }
}

function unable(what: string, stores: string): IdempotencyConfigurationError {
  return new IdempotencyConfigurationError(
    `${what} is not available on DynamoDbIdempotencyStore: DynamoDB cannot wake waiters and has no interactive transactions. ` +
      `Use another store for it (${stores}).`,
  );
}
