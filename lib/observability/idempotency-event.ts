import type { IdempotencyRecordId } from '../interfaces/idempotency-store.interface.js';

/**
 * What the protocol decided for a request, at the moment it decided:
 *
 * - `claimed`: the record was claimed; the operation runs.
 * - `lease-taken-over`: claimed by taking over a record still in flight
 *   whose lease had run out (its instance crashed or stalled); the operation
 *   runs. Reported by the stores that can tell it from a plain claim
 *   (TypeORM on PostgreSQL, in-memory, DynamoDB); the others report `claimed`.
 * - `replayed`: the stored outcome was returned; the operation did not run.
 * - `conflict`: the key is in flight (answered 409, after `wait` if any).
 * - `mismatch`: the key came with another payload (answered 422).
 * - `not-stored`: the key completed but its outcome was not stored (a stream,
 *   or over `maxResponseBytes`), so it cannot be replayed (answered 409).
 * - `completed`: the outcome was stored for replay.
 * - `released`: the record was given up (a non-cacheable outcome, an error)
 *   so a retry runs again.
 * - `abandoned`: the outcome is in doubt (client gone, timeout): the record
 *   stays until its lease runs out.
 * - `completion-failed`: the outcome could not be stored: the lease was lost
 *   to another request (no `error`), or the store failed (`error`).
 * - `store-error`: a claim or a release failed in the store: answered 503
 *   (unreachable), run unprotected (`failedOpen`), or 500 (another error).
 * - `forgotten`: an operator deleted the record with
 *   `IdempotencyService.forget()`; its next request runs again.
 */
export type IdempotencyEventType =
  | 'claimed'
  | 'lease-taken-over'
  | 'replayed'
  | 'conflict'
  | 'mismatch'
  | 'not-stored'
  | 'completed'
  | 'released'
  | 'abandoned'
  | 'completion-failed'
  | 'store-error'
  | 'forgotten';

/** Where the request came from: an HTTP route, a GraphQL mutation, a message handler, or `IdempotencyService.execute()`. */
export type IdempotencyTransport = 'http' | 'graphql' | 'rpc' | 'service';

/**
 * One decision of the idempotency protocol, handed to the `onEvent` module
 * option (and to the debug log and OpenTelemetry metrics). Never carries a
 * request or response body.
 */
export interface IdempotencyEvent extends IdempotencyRecordId {
  /** The decision. */
  type: IdempotencyEventType;
  /** Where the request came from. */
  transport: IdempotencyTransport;
  /**
   * Milliseconds the store took for the call that led to the decision: the
   * claim (its retries included; in atomic mode, opening the transaction
   * too) for the decisions of admission (`claimed` to `not-stored`, and a
   * `store-error` of a claim), the completion (or commit) for `completed`
   * and `completion-failed`, the release for `released` (and its
   * `store-error`), the read and the fenced delete for `forgotten`; 0 for `abandoned`. Measured only when someone listens.
   */
  storeLatencyMs: number;
  /** `replayed` and `completed`: the stored status (200 for `execute()`). */
  status?: number;
  /** `store-error`, and `completion-failed` when the store failed: what it threw. */
  error?: unknown;
  /** `store-error` of a claim under `failOpen`: the operation ran unprotected. */
  failedOpen?: boolean;
}

/**
 * Receives every {@link IdempotencyEvent}. It runs inline, so keep it quick;
 * what it throws (or a promise it returns rejects with) is logged and never
 * affects the request.
 */
export type IdempotencyEventListener = (event: IdempotencyEvent) => void | Promise<void>;
