import { HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { TimeoutError } from 'rxjs';
import { IDEMPOTENT_REPLAYED_HEADER } from '../idempotency.constants.js';
import type { StoredResponse } from '../interfaces/idempotency-store.interface.js';
import type { IdempotencyLease } from '../protocol/idempotency-lease.js';
import { replayableHeaders } from './http-response.js';
import type { IdempotentRoute } from './idempotent-routes.js';
import { holdResponse, sendStored, substituteResponse } from './wire-capture.js';

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
export function recordOutcome(response: ServerResponse, route: IdempotentRoute, lease: IdempotencyLease, state: RunState): void {
  const { options, replayHeaders } = route;
  holdResponse(response, options.maxResponseBytes, async (sent) => {
    if (state.inDoubt) return lease.abandon();
    if (!options.cacheable(sent.status)) return lease.release();
    await lease.complete({ status: sent.status, headers: replayableHeaders(sent.headers, replayHeaders), body: sent.body });
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

/** A timeout fired while the handler may still be running: its outcome is in doubt. */
export function isInDoubt(error: unknown): boolean {
  return error instanceof TimeoutError || (error instanceof HttpException && error.getStatus() === 408);
}
