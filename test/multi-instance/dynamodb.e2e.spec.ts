import { describe, jest } from '@jest/globals';
import { DynamoDbRecords } from './support/dynamodb-records.js';
import { describeSharedStore } from './support/shared-store-suite.js';

// DESIGN.md §8: a shared store passes the multi-process storm, here with
// DynamoDbIdempotencyStore: 3 processes share one dynalite server that the test
// starts in a process of its own on a free port (the DynamoDB API in memory;
// every refused claim takes dynalite's path: PutItem, then a consistent
// GetItem). Side effects are still counted in PostgreSQL. The suite reads each
// item where leases.e2e.spec.ts reads the row.

// dynalite serves a few hundred calls a second: the storm of 2,000 requests may need more than the 30 s default.
jest.setTimeout(120_000);

describe('multi-instance: DynamoDbIdempotencyStore (3 processes, one dynalite)', () => {
  describeSharedStore(() => DynamoDbRecords.open());
});
