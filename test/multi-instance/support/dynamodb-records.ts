import { GetItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ATTRIBUTES as A } from '../../../lib/stores/dynamodb/dynamodb-items.js';
import { partitionKeyOf } from '../../../lib/stores/dynamodb/dynamodb-keys.js';
import { createDynamoDbIdempotencyTable } from '../../../lib/stores/dynamodb/index.js';
import { Dynalite, uniqueTable } from '../../support/dynalite.js';
import type { SharedStore, StoredRecordView } from './shared-store.js';

type Item = Record<string, AttributeValue>;

/** What is left of an item's time (its lease, or its ttl) now, by the test's clock: the workers' clock too. */
const endsInMsOf = (item: Item) => Number(item[A.endsAt].N) - Date.now();

/**
 * The tests' view of the records a `DynamoDbIdempotencyStore` keeps: one
 * dynalite server started by the test in a child process, a table of this run, read with
 * strongly consistent reads on a client of the test's own. The workers (other
 * processes) connect to the same server.
 */
export class DynamoDbRecords implements SharedStore {
  readonly label: string;
  readonly workerEnv: Record<string, string>;

  private constructor(
    private readonly dynalite: Dynalite,
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly scope = 'effects',
  ) {
    this.label = `one dynalite at ${dynalite.endpoint}`;
    this.workerEnv = { STORE: 'dynamodb', DYNAMODB_ENDPOINT: dynalite.endpoint, DYNAMODB_TABLE: table };
  }

  /** Starts dynalite (in a process of its own) and creates the table; `close()` stops the server. */
  static async open(): Promise<DynamoDbRecords> {
    const dynalite = await Dynalite.startProcess();
    const client = dynalite.client();
    const table = uniqueTable();
    await createDynamoDbIdempotencyTable(client, table);
    return new DynamoDbRecords(dynalite, client, table);
  }

  /** The record of `key` (of `principal`, in this scope), or `undefined` when there is none or it expired. */
  async record(key: string, principal = ''): Promise<StoredRecordView | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: this.keyOf(key, principal), ConsistentRead: true }),
    );
    if (!Item || endsInMsOf(Item) <= 0) return undefined;
    const body = Item[A.body]?.B;
    return {
      state: Item[A.state].S as StoredRecordView['state'],
      token: Item[A.token].S!,
      body: body ? Buffer.from(body) : null,
      endsInMs: endsInMsOf(Item),
    };
  }

  /**
   * Ends the lease of the `processing` record of `key`, as if its owner had
   * stalled past `lockTimeout` (and past any clock-skew margin): its end is
   * moved an hour back. A completed record is left alone.
   * @returns whether a processing record was there to end.
   */
  async endLease(key: string, principal = ''): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.keyOf(key, principal),
          ConditionExpression: '#state = :processing',
          UpdateExpression: 'SET #endsAt = :past',
          ExpressionAttributeNames: { '#state': A.state, '#endsAt': A.endsAt },
          ExpressionAttributeValues: { ':processing': { S: 'processing' }, ':past': { N: String(Date.now() - 3_600_000) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Every record of the table (any scope, any principal) still `processing`
   * with a lease that has not ended (an item whose lease ended is absent to
   * the store, whatever TTL has not deleted yet): a consistent Scan. A record
   * of one of `keys` (anonymous, this scope) is named by that key.
   */
  async processing(keys: string[] = []): Promise<{ record: string; endsInMs: number }[]> {
    const names = new Map(keys.map((key) => [partitionKeyOf({ scope: this.scope, principal: '', key }), key]));
    const found: { record: string; endsInMs: number }[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        if (item[A.state].S === 'processing' && endsInMsOf(item) > 0) {
          found.push({ record: names.get(item[A.id].S!) ?? item[A.id].S!, endsInMs: endsInMsOf(item) });
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /** Stops the dynalite server (its tables lived in memory). */
  async close(): Promise<void> {
    this.client.destroy();
    await this.dynalite.stop();
  }

  private keyOf(key: string, principal: string): Item {
    return { [A.id]: { S: partitionKeyOf({ scope: this.scope, principal, key }) } };
  }
}
