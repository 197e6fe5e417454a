import { IdempotencyStoreConnectionError } from '../../errors/idempotency-store-connection.error.js';
import { SOCKET_ERROR_CODES } from '../../errors/socket-errors.js';

/** Socket errors of a connection that could not be made or was lost. */
const SOCKET = new Set(SOCKET_ERROR_CODES);

/** ioredis errors of a client that has no usable connection (or Cluster). */
const CLIENT_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const CLIENT_MESSAGE =
  /^(Connection is closed|Stream isn't writeable|Cluster isn't ready|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections|Command timed out|Reached the max retries per request limit)/;

/**
 * Server replies of a node that cannot serve now: loading its data set, a
 * replica after a failover (READONLY), a Cluster reconfiguring (TRYAGAIN,
 * CLUSTERDOWN), a primary without its replicas (MASTERDOWN, NOREPLICAS), a
 * long script (BUSY), no free client slot. Matched at the start of the reply
 * or after `: ` (Redis before 7 wraps an error raised inside a script in
 * `ERR Error running script ...: -READONLY ...`).
 */
const UNAVAILABLE_REPLY =
  /(?:^|: ?-?)(LOADING|READONLY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|NOREPLICAS|BUSY)\b|^ERR max number of clients reached/;

/**
 * The error to throw for a failed Redis call: connectivity failures become
 * {@link IdempotencyStoreConnectionError} (an outage: 503 or `failOpen`); any
 * other error (a wrong password, ACL, OOM, a key of another type) is
 * permanent and passes through unchanged.
 */
export function classifyRedisError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (
    (typeof code === 'string' && SOCKET.has(code)) ||
    CLIENT_NAMES.has(error.name) ||
    CLIENT_MESSAGE.test(error.message) ||
    UNAVAILABLE_REPLY.test(error.message)
  ) {
    return new IdempotencyStoreConnectionError(`Redis unreachable: ${error.message}`, { cause: error });
  }
  return error;
}
