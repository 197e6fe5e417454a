import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 503: the record store could not be reached, so nothing was run (fail closed). */
export class IdempotencyStoreUnavailableException extends IdempotencyException {
  constructor(retryAfterSeconds: number) {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'store-unavailable',
      'Idempotency store unavailable',
      'The request was not processed because its idempotency record could not be stored. Retry later with the same key.',
      retryAfterSeconds,
    );
  }
}
