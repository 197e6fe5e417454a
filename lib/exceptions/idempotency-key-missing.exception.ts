import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 400: a route (or message handler) that requires a key got none. */
export class IdempotencyKeyMissingException extends IdempotencyException {
  /**
   * @param header the key's HTTP header.
   * @param source where the key is expected, when not that header (e.g. `'a message id'`).
   */
  constructor(header: string, source = `an ${header} header`) {
    super(
      HttpStatus.BAD_REQUEST,
      'key-missing',
      'Idempotency key missing',
      `This endpoint requires ${source}: send a unique value (e.g. a UUID) and reuse it when you retry.`,
    );
  }
}
