/**
 * What a store throws when it cannot reach its backend (connection refused,
 * reset or timed out, server shutting down). Only this error counts as an
 * outage: the request answers 503 with `Retry-After`, or runs unprotected
 * under `failOpen`. Any other error a store throws is a permanent failure
 * (a missing table, a permission) and passes through as a 500.
 */
export class IdempotencyStoreConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdempotencyStoreConnectionError';
  }
}
