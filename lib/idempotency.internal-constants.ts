/** Metadata key of `@Idempotent()` (options) and `@SkipIdempotency()` (`false`). */
export const IDEMPOTENT_METADATA = 'nestjs-idempotency:idempotent';

/** Headers that are never stored, whatever `replayHeaders` says. */
export const UNREPLAYABLE_HEADERS = new Set([
  'set-cookie',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-connection',
  'content-length',
]);

/** Records deleted per statement by `purgeExpired()`. */
export const PURGE_BATCH_SIZE = 1000;

/** How many times a claim that lost a race to an invisible row is tried. */
export const CLAIM_ATTEMPTS = 3;

/** Longest key a record holds (the `key` column is varchar(255)). */
export const MAX_KEY_LENGTH = 255;

/** Longest fingerprint a record holds (a SHA-256 in hex); longer ones are hashed. */
export const MAX_FINGERPRINT_LENGTH = 64;

/**
 * Injection token of the validated module options (see `idempotency.options.ts`).
 * The tokens are `Symbol.for()` keys, so the ES module and CommonJS builds of
 * the package agree on them when one app loads both.
 */
export const IDEMPOTENCY_OPTIONS = Symbol.for('nestjs-idempotency:options');

/** Shortest `lockTimeout` accepted, in ms: the heartbeat renews the lease every third of it. */
export const MIN_LOCK_TIMEOUT = 1000;

/** Where the interceptor leaves the `EntityManager` of an atomic request, for `@TransactionManager()`. */
export const TRANSACTION_MANAGER = Symbol.for('nestjs-idempotency:transaction-manager');

/** Injection token of the application's idempotency interceptor (the module's `interceptor` class). */
export const IDEMPOTENCY_INTERCEPTOR = Symbol.for('nestjs-idempotency:interceptor');
