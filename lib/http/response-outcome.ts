import { HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TimeoutError } from 'rxjs';
import { IDEMPOTENT_REPLAYED_HEADER } from '../idempotency.constants.js';
import type { StoredResponse } from '../interfaces/idempotency-store.interface.js';
import type { IdempotencyException } from '../exceptions/idempotency.exception.js';
import { TransactionNotCommittedException } from '../exceptions/transaction-not-committed.exception.js';
import type { Lease } from '../protocol/idempotency-lease.js';
import { replayableHeaders } from './http-response.js';
import type { IdempotentRoute } from '../interceptors/idempotent-routes.js';
import { holdResponse, sendStored, substituteResponse, type WireReplay } from './wire-capture.js';

/** Seconds a client is asked to wait before retrying a request whose transaction did not commit. */
const NOT_COMMITTED_RETRY_AFTER_SECONDS = 1;

/** What the interceptor knows of a running handler when its response goes out. */
export interface RunState {
  /** The handler's stream completed or failed. */
  finished: boolean;
  /** The outcome is in doubt: torn down while running, or a timeout fired while it may still run. */
  inDoubt: boolean;
}

/**
 * Ends `lease` by what is sent on `response`, before it leaves: a cacheable
 * status completes the record with the bytes on the wire, another releases
 * it, an outcome in doubt abandons it to its lease.
 */
export function recordOutcome(response: ServerResponse, route: IdempotentRoute, lease: Lease, state: RunState): void {
  const { options, replayHeaders } = route;
  holdResponse(response, options.maxResponseBytes, async (sent) => {
    if (state.inDoubt) return lease.abandon();
    if (!options.cacheable(sent.status)) return lease.release();
    try {
      await lease.complete({ status: sent.status, headers: replayableHeaders(sent.headers, replayHeaders), body: sent.body });
    } catch {
      // Atomic mode: the commit failed, so the response must not say the request was done.
      return problemResponse(new TransactionNotCommittedException(NOT_COMMITTED_RETRY_AFTER_SECONDS));
    }
  });
  // The handler finished but nothing will be sent (e.g. `@Res()` that never wrote): do not hold the key.
  response.once('close', () => {
    if (state.finished) lease.abandon();
  });
}

/**
 * Sends a stored response to a retry: in place of whatever Nest sends for
 * it (a placeholder), or at once for a handler that writes its own response
 * (Nest sends nothing then).
 */
export function replayResponse(response: ServerResponse, route: IdempotentRoute, stored: StoredResponse): void {
  const replay = {
    status: stored.status,
    headers: { ...stored.headers, [IDEMPOTENT_REPLAYED_HEADER.toLowerCase()]: 'true' },
    body: stored.body ?? Buffer.alloc(0),
  };
  if (route.writesOwnResponse) sendStored(response, replay);
  else substituteResponse(response, replay, route.replayHeaders);
}

/** The wire form of a library exception: `application/problem+json`, with `Retry-After` when it has one. */
function problemResponse(exception: IdempotencyException): WireReplay {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (exception.retryAfterSeconds !== undefined) headers['retry-after'] = String(exception.retryAfterSeconds);
  return { status: exception.getStatus(), headers, body: Buffer.from(JSON.stringify(exception.getResponse())) };
}

/** A timeout fired while the handler may still be running: its outcome is in doubt. */
export function isInDoubt(error: unknown): boolean {
  return error instanceof TimeoutError || (error instanceof HttpException && error.getStatus() === 408);
}
