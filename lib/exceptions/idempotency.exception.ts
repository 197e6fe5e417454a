import { HttpException } from '@nestjs/common';

/** Body of every error this library answers with: RFC 9457 problem details. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
}

/**
 * Base of the library's errors: an `HttpException` whose response is an
 * RFC 9457 problem, so exception filters see them like any other. The
 * interceptor sends them as `application/problem+json`.
 */
export abstract class IdempotencyException extends HttpException {
  /**
   * The problem as a constant, e.g. `'IDEMPOTENCY_KEY_IN_FLIGHT'`: the GraphQL
   * `extensions.code` and the `code` of an RPC error.
   */
  readonly code: string;

  /**
   * @param status HTTP status.
   * @param problem short name of the problem type, e.g. `'key-in-flight'`.
   * @param title summary of the problem type.
   * @param detail what happened and what to do about it.
   * @param retryAfterSeconds sent as `Retry-After` when set.
   */
  protected constructor(
    status: number,
    problem: string,
    title: string,
    detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super({ type: `urn:nestjs-idempotency:${problem}`, title, status, detail } satisfies ProblemDetails, status);
    this.code = `IDEMPOTENCY_${problem.toUpperCase().replaceAll('-', '_')}`;
  }

  /** The problem details this exception answers with. */
  get problem(): ProblemDetails {
    return this.getResponse() as ProblemDetails;
  }
}
