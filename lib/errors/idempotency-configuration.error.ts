/**
 * A configuration mistake found at startup (or at the call of a service
 * method), with the fix in its message. Thrown so the app does not start
 * with idempotency silently broken.
 */
export class IdempotencyConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdempotencyConfigurationError';
  }
}
