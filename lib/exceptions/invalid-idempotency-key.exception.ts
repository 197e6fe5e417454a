import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 400: the key header is present but unusable. */
export class InvalidIdempotencyKeyException extends IdempotencyException {
  constructor(header: string, reason: string) {
    super(HttpStatus.BAD_REQUEST, 'key-invalid', 'Invalid idempotency key', `The ${header} header ${reason}.`);
  }
}
