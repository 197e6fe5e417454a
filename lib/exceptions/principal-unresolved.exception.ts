import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/**
 * 500: the request is authenticated, but the library cannot tell by whom, so
 * it refuses to file the key under anyone (a wrong principal would replay one
 * user's response to another). A server configuration error: set the
 * `principal` option.
 */
export class PrincipalUnresolvedException extends IdempotencyException {
  constructor() {
    super(
      HttpStatus.INTERNAL_SERVER_ERROR,
      'principal-unresolved',
      'Idempotency principal unresolved',
      'The request is authenticated, but the server could not tell which user its idempotency key belongs to, so it did not process it. This is a server configuration error.',
    );
  }
}
