import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 409: the first request with this key is still running. */
export class IdempotencyKeyInFlightException extends IdempotencyException {
  constructor(retryAfterSeconds: number) {
    super(
      HttpStatus.CONFLICT,
      'key-in-flight',
      'Request in progress',
      `A request with this idempotency key is still being processed. Retry after ${retryAfterSeconds} s to get its response.`,
      retryAfterSeconds,
    );
  }
}
