import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 422: the key was first used with a different request payload. */
export class IdempotencyKeyReusedException extends IdempotencyException {
  constructor() {
    super(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'key-reused',
      'Idempotency key reused with a different request',
      'This idempotency key was already used with a different request (method, path, query or body; a mutation\'s arguments; a message\'s data). ' +
        'Send a new key for a new request.',
    );
  }
}
