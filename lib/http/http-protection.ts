import type { ExecutionContext, HttpServer } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Observable, type Subscription } from 'rxjs';
import { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { TRANSACTION_MANAGER } from '../idempotency.internal-constants.js';
import type { Admission } from '../protocol/admissions.js';
import type { Lease } from '../protocol/idempotency-lease.js';
import type { IdempotentRoute } from '../interceptors/idempotent-routes.js';
import { answerAsProblemJson } from './problem-content-type.js';
import { isInDoubt, recordOutcome, replayResponse, type RunState } from './response-outcome.js';

/** One request to an `@Idempotent()` HTTP route, and how to run it. */
export interface ProtectedRequest {
  context: ExecutionContext;
  route: IdempotentRoute;
  adapter: HttpServer;
  admit(): Promise<Admission>;
  /** The handler's stream, in the admission's transaction (atomic mode). */
  handle(admission: Admission): Observable<unknown>;
}

/**
 * Admits the request, then replays the stored response, or runs the handler
 * under its lease with its response recorded on the wire (see
 * `response-outcome.ts`). An unsubscribe before the handler ran releases the
 * key; during the run, it leaves the outcome in doubt. Refusals go out as
 * `application/problem+json`, with `Retry-After` where a retry helps.
 */
export function protectHttpRoute(request: ProtectedRequest): Observable<unknown> {
  const { context, route, adapter } = request;
  const response = context.switchToHttp().getResponse();
  return new Observable((subscriber) => {
    let run: Subscription | undefined;
    let lease: Lease | null = null;
    const state: RunState = { finished: false, inDoubt: false };
    request.admit().then(
      (admission) => {
        if (admission.kind === 'replay') {
          adapter.status(response, admission.response.status);
          replayResponse(rawResponseOf(response), route, admission.response);
          subscriber.next(undefined);
          return subscriber.complete();
        }
        lease = admission.lease;
        if (subscriber.closed) return void lease?.release(); // torn down before the handler ran
        if (admission.manager) context.switchToHttp().getRequest()[TRANSACTION_MANAGER] = admission.manager;
        if (lease) recordOutcome(rawResponseOf(response), route, lease, state);
        let handled: Observable<unknown>;
        try {
          handled = request.handle(admission);
        } catch (error) {
          state.finished = true; // e.g. a transactionContext that refused: answered as an error, which releases the key
          return subscriber.error(error);
        }
        run = handled.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            state.finished = true;
            if (isInDoubt(error)) state.inDoubt = true;
            subscriber.error(error);
          },
          complete: () => {
            state.finished = true;
            subscriber.complete();
          },
        });
      },
      (error: unknown) => {
        if (error instanceof IdempotencyException) prepareProblemResponse(adapter, response, error);
        subscriber.error(error);
      },
    );
    return () => {
      run?.unsubscribe();
      if (run && !state.finished) {
        state.inDoubt = true; // client gone, outer timeout: the handler may still be running
        lease?.abandon();
      }
    };
  });
}

/**
 * Readies the answer to a refusal, which the error still carries to the
 * exception filters: `Retry-After` now, the problem+json content type as it
 * is written (see `problem-content-type.ts`).
 */
function prepareProblemResponse(adapter: HttpServer, response: unknown, error: IdempotencyException): void {
  answerAsProblemJson(rawResponseOf(response), error.getStatus());
  if (error.retryAfterSeconds !== undefined) {
    adapter.setHeader(response, 'Retry-After', String(error.retryAfterSeconds));
  }
}

/** Node's `ServerResponse` under an Express response or a Fastify reply. */
function rawResponseOf(response: unknown): ServerResponse {
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}
