import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { InvalidIdempotencyKeyException } from '../exceptions/invalid-idempotency-key.exception.js';
import { MAX_KEY_LENGTH } from '../idempotency.internal-constants.js';
import type { IdempotencyRecordId } from '../interfaces/idempotency-store.interface.js';

/**
 * Checks that a record identity can be stored exactly: every store keeps
 * text, and a database folds a NUL or a lone surrogate (PostgreSQL turns the
 * latter into U+FFFD), so two different keys could become one record.
 *
 * @throws InvalidIdempotencyKeyException for a key that is not 1 to 255 such characters.
 * @throws IdempotencyConfigurationError for such a scope or principal (they come from the app).
 */
export function assertStorableIdentity({ scope, principal, key }: IdempotencyRecordId): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || !isStorableText(key)) {
    throw new InvalidIdempotencyKeyException(
      'key',
      `must be a string of 1 to ${MAX_KEY_LENGTH} characters, without NUL or lone surrogates`,
    );
  }
  for (const [name, value] of [['scope', scope], ['principal', principal]] as const) {
    if (typeof value !== 'string' || !isStorableText(value)) {
      throw new IdempotencyConfigurationError(
        `The idempotency ${name} must be a string without NUL or lone surrogates; got ${JSON.stringify(value)}.`,
      );
    }
  }
}

function isStorableText(text: string): boolean {
  return !text.includes('\0') && text.isWellFormed();
}
