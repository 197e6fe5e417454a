import { createHash } from 'node:crypto';
import type { IdempotencyRecordId } from '../../interfaces/idempotency-store.interface.js';

/** DynamoDB's limit on the UTF-8 size of a partition key value. */
const MAX_PARTITION_KEY_BYTES = 2048;

/**
 * The partition key of a record: the JSON array `[scope, principal, key]`,
 * an unambiguous encoding that stays readable in the console. An identity
 * whose JSON is over DynamoDB's 2,048-byte limit (a very long scope or
 * principal) is stored as `sha256:<hex of that JSON>`; a JSON array starts
 * with `[`, so the two forms never meet.
 */
export function partitionKeyOf({ scope, principal, key }: IdempotencyRecordId): string {
  const json = JSON.stringify([scope, principal, key]);
  if (Buffer.byteLength(json, 'utf8') <= MAX_PARTITION_KEY_BYTES) return json;
  return `sha256:${createHash('sha256').update(json).digest('hex')}`;
}
