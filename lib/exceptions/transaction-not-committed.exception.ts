import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/**
 * 503 (atomic mode): the transaction of the request did not commit, so
 * nothing it wrote was kept (or, with the connection lost during COMMIT, it
 * is unknown whether it was). Its response is not sent; a retry with the
 * same key is safe: it replays a commit that happened, else runs again.
 */
export class TransactionNotCommittedException extends IdempotencyException {
  constructor(retryAfterSeconds: number) {
    super(
      HttpStatus.SERVICE_UNAVAILABLE,
      'not-committed',
      'Transaction not committed',
      'The request ran, but its transaction could not be committed, so its response was not sent. Retry with the same key: ' +
        'you will get the response of a commit that went through, or the request runs again.',
      retryAfterSeconds,
    );
  }
}
