import { IdempotencyConfigurationError } from '../../../errors/idempotency-configuration.error.js';
import type { IdempotencyRecordId } from '../../../interfaces/idempotency-store.interface.js';

/**
 * Bytes of UTF-8 each identity column holds: 3 × 1024 = 3072, InnoDB's
 * limit for one index key. A key is at most 255 UTF-16 units (765 bytes).
 */
export const MYSQL_IDENTITY_BYTES = { scope: 1024, principal: 1024, key: 1024 } as const;

/** Characters of the `fingerprint` column (a SHA-256 in hex, or the app's own). */
export const MYSQL_FINGERPRINT_LENGTH = 64;

const FIX = {
  scope: 'Give the route a shorter `scope` option (e.g. a hash of it).',
  principal: 'Make the `principal` option return a shorter id (e.g. a hash of it).',
  key: 'Idempotency keys are at most 255 characters.',
} as const;

/** Scope, principal and key as the VARBINARY values of the statements: their UTF-8 bytes. */
export type IdentityBytes = [scope: Buffer, principal: Buffer, key: Buffer];

/**
 * The bytes of a record identity, checked against the columns before any
 * SQL: a value too long is a configuration error with the fix, never a
 * failed statement (or, in a non-strict `sql_mode`, silently truncated into
 * someone else's record).
 *
 * @throws IdempotencyConfigurationError for a value longer than its column.
 */
export function identityBytes({ scope, principal, key }: IdempotencyRecordId): IdentityBytes {
  const bytes: IdentityBytes = [Buffer.from(scope, 'utf8'), Buffer.from(principal, 'utf8'), Buffer.from(key, 'utf8')];
  (['scope', 'principal', 'key'] as const).forEach((name, i) => {
    const limit = MYSQL_IDENTITY_BYTES[name];
    if (bytes[i].length > limit) {
      throw new IdempotencyConfigurationError(
        `The idempotency ${name} is ${bytes[i].length} bytes of UTF-8; the MySQL/MariaDB table holds at most ${limit}. ` +
          FIX[name],
      );
    }
  });
  return bytes;
}

/**
 * Checks a fingerprint against its column (characters), before any SQL.
 * @throws IdempotencyConfigurationError for a longer one.
 */
export function assertFingerprintFits(fingerprint: string): void {
  if ([...fingerprint].length > MYSQL_FINGERPRINT_LENGTH) {
    throw new IdempotencyConfigurationError(
      `The request fingerprint has ${[...fingerprint].length} characters; the MySQL/MariaDB table holds at most ` +
        `${MYSQL_FINGERPRINT_LENGTH}. Make the \`fingerprint\` option return a digest (e.g. SHA-256 in hex).`,
    );
  }
}
