import { IdempotencyStoreConnectionError } from '../../errors/idempotency-store-connection.error.js';
import { SOCKET_ERROR_CODES } from '../../errors/socket-errors.js';

/** Socket errors of a connection that could not be made or was lost. */
const SOCKET = new Set(SOCKET_ERROR_CODES);

/**
 * The same codes in a message: the SDK's retry layer wraps an error that is
 * not an `Error` of its own realm (e.g. under a VM sandbox such as Jest's) in
 * `AWS SDK error wrapper for Error: connect ECONNREFUSED ...`, without its `code`.
 */
const SOCKET_MESSAGE = new RegExp(`\\b(${[...SOCKET].join('|')})\\b`);

/**
 * Errors of a DynamoDB that cannot serve now: throttling (the SDK already
 * retried it), the service failing or unavailable, and the SDK's request
 * timeouts.
 */
const UNAVAILABLE = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * The error to throw for a failed DynamoDB call: connectivity failures,
 * throttling and server-side failures (HTTP 5xx) become
 * {@link IdempotencyStoreConnectionError} (an outage: 503 or `failOpen`); any
 * other error (a missing table, access denied, a validation error) is
 * permanent and passes through unchanged.
 */
export function classifyDynamoDbError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, $metadata } = error as { code?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode ?? 0;
  const socket = typeof code === 'string' ? SOCKET.has(code) : SOCKET_MESSAGE.test(error.message);
  if (socket || UNAVAILABLE.has(error.name) || status >= 500) {
    return new IdempotencyStoreConnectionError(`DynamoDB unreachable: ${error.name}: ${error.message}`, { cause: error });
  }
  return error;
}

/** Whether `error` is DynamoDB refusing a conditional write because its condition was false. */
export function isConditionFailure(error: unknown): error is Error & { Item?: Record<string, unknown> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
