/**
 * Subpath entry `nestjs-idempotency/dynamodb`: the DynamoDB store. It needs
 * the optional peer `@aws-sdk/client-dynamodb` (v3); the core entry
 * `nestjs-idempotency` never loads this folder.
 */
export { DynamoDbIdempotencyStore, type DynamoDbIdempotencyStoreOptions } from './dynamodb-idempotency.store.js';
export { MAX_DYNAMODB_RESPONSE_BYTES } from './dynamodb-limits.js';
export { createDynamoDbIdempotencyTable, type DynamoDbIdempotencyTableSetup } from './dynamodb-table.js';
