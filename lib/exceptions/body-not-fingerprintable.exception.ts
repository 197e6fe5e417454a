import { HttpStatus } from '@nestjs/common';
import { IdempotencyException } from './idempotency.exception.js';

/**
 * 415: the request has a body the library cannot read (no body parser ran for
 * its media type), so it cannot tell a retry from another request with the
 * same key. Refused rather than risk replaying another request's response.
 */
export class BodyNotFingerprintableException extends IdempotencyException {
  constructor(readonly mediaType: string) {
    super(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'body-not-fingerprintable',
      'Request body not supported with an idempotency key',
      `This endpoint cannot check a ${mediaType} body against its idempotency key, so it did not process the request. Send a media type it parses (e.g. application/json).`,
    );
  }
}
