import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { IdempotencyConfigurationError } from '../../errors/idempotency-configuration.error.js';
import { ATTRIBUTES } from './dynamodb-items.js';

/** What {@link createDynamoDbIdempotencyTable} did. */
export interface DynamoDbIdempotencyTableSetup {
  /** `false` when the table already existed (it was left as it is). */
  created: boolean;
  /**
   * `'enabled'` when TTL on `expires_at` is on; `'unsupported'` when the
   * endpoint has no `UpdateTimeToLive` (dynalite and some other emulators):
   * records are then never deleted, which the store does not need (it
   * judges expiry by itself) but storage grows.
   */
  timeToLive: 'enabled' | 'unsupported';
}

/**
 * Creates the table of {@link DynamoDbIdempotencyStore} — partition key `id`
 * (string), on-demand capacity (PAY_PER_REQUEST) — waits until it is active,
 * and turns on TTL on its `expires_at` attribute. A table that already
 * exists is kept (and its TTL turned on). Meant for development, tests and
 * setup scripts; production tables usually come from infrastructure code
 * (see the README for the AWS CLI equivalent).
 *
 * @example
 * await createDynamoDbIdempotencyTable(new DynamoDBClient({}), 'idempotency_records');
 */
export async function createDynamoDbIdempotencyTable(
  client: DynamoDBClient,
  table: string,
  maxWaitSeconds = 300,
): Promise<DynamoDbIdempotencyTableSetup> {
  let created = true;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: ATTRIBUTES.id, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: ATTRIBUTES.id, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
    created = false;
  }
  await waitUntilTableExists({ client, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 5 }, { TableName: table });
  return { created, timeToLive: await enableTimeToLive(client, table) };
}

async function enableTimeToLive(client: DynamoDBClient, table: string): Promise<DynamoDbIdempotencyTableSetup['timeToLive']> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: ATTRIBUTES.expiresAt, Enabled: true } }),
    );
    return 'enabled';
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    if (error.name === 'UnknownOperationException') return 'unsupported'; // dynalite
    if (error.name === 'ValidationException' && /already enabled/i.test(error.message)) return 'enabled';
    throw error;
  }
}

/**
 * Checks that `table` exists with the store's key schema: a partition key
 * `id` of type string and no sort key.
 * @throws IdempotencyConfigurationError naming the fix.
 * @throws the client's error when DynamoDB could not be asked (classified by the caller).
 */
export async function verifyDynamoDbTable(client: DynamoDBClient, table: string): Promise<void> {
  let description: TableDescription | undefined;
  try {
    description = (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
  }
  const fix =
    `Create it with createDynamoDbIdempotencyTable(client, '${table}') from 'nestjs-idempotency/dynamodb', or ` +
    `aws dynamodb create-table --table-name ${table} --attribute-definitions AttributeName=id,AttributeType=S ` +
    '--key-schema AttributeName=id,KeyType=HASH --billing-mode PAY_PER_REQUEST (then enable TTL on expires_at).';
  if (!description) {
    throw new IdempotencyConfigurationError(
      `DynamoDbIdempotencyStore: the table "${table}" does not exist in this account and region. ${fix}`,
    );
  }
  const keys = description.KeySchema ?? [];
  const type = description.AttributeDefinitions?.find(({ AttributeName }) => AttributeName === ATTRIBUTES.id)?.AttributeType;
  if (keys.length !== 1 || keys[0].AttributeName !== ATTRIBUTES.id || keys[0].KeyType !== 'HASH' || type !== 'S') {
    const schema = keys.map(({ AttributeName, KeyType }) => `${AttributeName} (${KeyType})`).join(', ');
    throw new IdempotencyConfigurationError(
      `DynamoDbIdempotencyStore: the table "${table}" has the key schema ${schema || 'none'}; the store needs exactly one ` +
        `partition key "id" of type string (S) and no sort key. Point the store at another table, or recreate this one. ${fix}`,
    );
  }
}
