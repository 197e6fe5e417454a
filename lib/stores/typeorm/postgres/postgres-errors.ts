import { IdempotencyStoreConnectionError } from '../../../errors/idempotency-store-connection.error.js';
import { SOCKET_ERROR_CODES } from '../../../errors/socket-errors.js';

/** SQLSTATEs of a statement that lost a race and succeeds when run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/** SQLSTATEs that mean the server cannot be used right now. */
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']); // shutdowns, cannot connect now, too many connections

/** Socket errors of a connection that could not be made or was lost. */
const SOCKET = new Set(SOCKET_ERROR_CODES);

/** What pg says when a connection broke, timed out in the pool, or was never there. */
const CONNECTION_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|not queryable|Cannot use a pool after calling end/i;

/** Whether a statement failed with a serialization failure or deadlock, and succeeds when run again. */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE.has(codeOf(error));
}

/**
 * The error to throw for a failed statement: connectivity failures become
 * {@link IdempotencyStoreConnectionError} (an outage: 503 or `failOpen`); any
 * other error (a missing table, a permission) is permanent and passes as is.
 */
export function classify(error: unknown): unknown {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (UNAVAILABLE.has(code) || code.startsWith('08') || SOCKET.has(code) || CONNECTION_MESSAGE.test(message)) {
    return new IdempotencyStoreConnectionError(`PostgreSQL unreachable: ${message}`, { cause: error });
  }
  return error;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
