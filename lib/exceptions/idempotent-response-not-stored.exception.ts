import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/**
 * 409: the request with this key completed, but its response (a stream, or one
 * over `maxResponseBytes`) was not stored, so it cannot be replayed. The
 * operation is not run a second time.
 */
export class IdempotentResponseNotStoredException extends IdempotencyException {
  constructor() {
    super(
      HttpStatus.CONFLICT,
      'response-not-stored',
      'Response not replayable',
      'The request with this idempotency key was already processed, but its response was too large or streamed and was not stored. Fetch the result through the API instead of retrying.',
    );
  }
}
