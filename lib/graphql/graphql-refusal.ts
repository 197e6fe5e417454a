import { IntrinsicException } from '@nestjs/common';
import type { IdempotencyException } from '../exceptions/idempotency.exception.js';

/**
 * A refusal of the library on a GraphQL mutation. GraphQL reports it with
 * this message and `extensions` (`code`, `status`, `retryAfterSeconds`,
 * and `http.status` for Apollo); Mercurius answers with `statusCode` when it
 * is the only error. Intrinsic: an expected answer, so Nest does not log it
 * as an error.
 */
export class GraphQLIdempotencyRefusal extends IntrinsicException {
  readonly extensions: Record<string, unknown>;
  readonly statusCode: number;

  constructor(error: IdempotencyException) {
    const { status, detail } = error.problem;
    super(detail);
    this.name = 'GraphQLIdempotencyRefusal';
    this.statusCode = status;
    const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
    this.extensions = { code: error.code, status, ...retry, http: { status } };
  }
}
