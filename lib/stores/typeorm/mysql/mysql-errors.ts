import { IdempotencyStoreConnectionError } from '../../../errors/idempotency-store-connection.error.js';
import { SOCKET_ERROR_CODES } from '../../../errors/socket-errors.js';

/** Server errors of a statement that lost a race and succeeds when run again: deadlock (1213), lock wait timeout (1205). */
const RETRYABLE = new Set([1213, 1205]);

/**
 * Server errors that mean the server cannot be used right now: too many
 * connections (1040), per user (1203), shutdown (1053), aborted or killed
 * connections (1152, 1927, 3169), network read/write failures (1158-1161),
 * host blocked after errors (1129), disconnected for inactivity (4031).
 */
const UNAVAILABLE = new Set([1040, 1203, 1053, 1152, 1927, 3169, 1158, 1159, 1160, 1161, 1129, 4031]);

/** Error codes of a connection that could not be made or was lost (sockets, and mysql2's protocol codes). */
const CONNECTION_CODES = new Set([
  ...SOCKET_ERROR_CODES,
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
]);

/** What mysql2 says, without a code, when a pool or connection cannot take a statement. */
const CONNECTION_MESSAGE = /Pool is closed|Connection lost|closed state|No connections available|Queue limit reached/i;

/** Whether a statement failed with a deadlock or a lock wait timeout, and succeeds when run again. */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has(errnoOf(error));
}

/**
 * The error to throw for a failed statement: connectivity failures become
 * {@link IdempotencyStoreConnectionError} (an outage: 503 or `failOpen`); any
 * other error (a missing table, a permission) is permanent and passes as is.
 */
export function classify(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (UNAVAILABLE.has(errnoOf(error)) || (typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGE.test(message)) {
    return new IdempotencyStoreConnectionError(`MySQL/MariaDB unreachable: ${message}`, { cause: error });
  }
  return error;
}

function errnoOf(error: unknown): number {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? errno : 0;
}
