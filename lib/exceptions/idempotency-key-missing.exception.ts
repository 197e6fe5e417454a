import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 400: a route that requires a key got none. */
export class IdempotencyKeyMissingException extends IdempotencyException {
  constructor(header: string) {
    super(
      HttpStatus.BAD_REQUEST,
      'key-missing',
      'Idempotency key missing',
      `This endpoint requires an ${header} header: send a unique value (e.g. a UUID) and reuse it when you retry.`,
    );
  }
}
