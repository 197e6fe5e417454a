import { createHash } from 'node:crypto';
import type { IdempotencyRecordId } from '../../interfaces/idempotency-store.interface.js';

/** Default prefix of the keys of {@link RedisIdempotencyStore}. */
export const DEFAULT_REDIS_PREFIX = 'idempotency:';

/**
 * The Redis Cluster hash tag of a record: the SHA-256 (hex) of its identity
 * (scope, principal, key) in an unambiguous encoding. Hex never holds `{` or
 * `}`, so whatever the key text, the tag is exactly what Redis hashes to pick
 * the slot, and every key of one record lands in one slot.
 */
export function hashTagOf({ scope, principal, key }: IdempotencyRecordId): string {
  return createHash('sha256').update(JSON.stringify([scope, principal, key])).digest('hex');
}

/**
 * The Redis key holding a record: `<prefix>{<hash tag>}`, a hash. A record
 * uses this one key only; a key added later must carry the same tag.
 */
export function recordKey(prefix: string, id: IdempotencyRecordId): string {
  return `${prefix}{${hashTagOf(id)}}`;
}

/**
 * Checks a key prefix: a string without `{` or `}`, since a brace in the
 * prefix would become the hash tag and put every record in one Cluster slot.
 * @throws TypeError naming the fix.
 */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError(
      `RedisIdempotencyStore: prefix must be a string without "{" or "}" (the store adds its own hash tag per record); ` +
        `got ${JSON.stringify(prefix)}.`,
    );
  }
}
