import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/** 400: the request body is nested too deeply to compute its fingerprint. */
export class RequestNotFingerprintableException extends IdempotencyException {
  constructor() {
    super(
      HttpStatus.BAD_REQUEST,
      'request-not-fingerprintable',
      'Request too deeply nested',
      'The request body is nested too deeply to be checked for idempotency. Flatten it and send it again.',
    );
  }
}
