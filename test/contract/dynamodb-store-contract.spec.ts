import { afterAll, beforeAll, describe } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbIdempotencyTable, DynamoDbIdempotencyStore } from '../../lib/stores/dynamodb/index.js';
import { Dynalite, returnOldItemOnConditionFailure, uniqueTable } from '../support/dynalite.js';
import { describeStoreContract } from './store-contract.js';

// Both paths of a refused claim: dynalite's (no item on a failed condition, so
// the store reads it with a consistent GetItem) and DynamoDB's (the item comes
// back with the failed condition), the latter emulated by a client middleware.
describe.each([
  ['dynalite: a refused claim reads the item with GetItem', false],
  ['the item returned with the failed condition, as on DynamoDB', true],
])('DynamoDbIdempotencyStore on dynalite (%s)', (_path, returnsOldItem) => {
  let dynalite: Dynalite;
  let client: DynamoDBClient;
  let stopEmulation = () => {};

  beforeAll(async () => {
    dynalite = await Dynalite.start();
    client = dynalite.client();
    if (returnsOldItem) stopEmulation = returnOldItemOnConditionFailure(client, dynalite.endpoint);
  });

  afterAll(async () => {
    stopEmulation();
    client?.destroy();
    await dynalite?.stop();
  });

  // Each test gets a table of its own: it starts with no records. No lease
  // margin, so that a lease of 0 ms is over at once, as the contract expects.
  describeStoreContract(
    'DynamoDbIdempotencyStore',
    async () => {
      const table = uniqueTable();
      await createDynamoDbIdempotencyTable(client, table);
      return new DynamoDbIdempotencyStore(client, { table, clockSkewMargin: 0 });
    },
    { expiresByItself: true, withoutWatch: true },
  );
});
