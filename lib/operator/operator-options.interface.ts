/**
 * Names the record of a key for {@link IdempotencyService.lookup} and
 * {@link IdempotencyService.forget}: the same identity the protocol wrote.
 *
 * - `execute(key, op, { scope, principal })`: the same `scope` and `principal`
 *   (defaults `'default'` and none, as in `execute()`).
 * - An `@Idempotent` HTTP route: `scope` is the route's `scope` option, else
 *   `'<METHOD> <route pattern>'` as the HTTP adapter reports the route
 *   (global prefix and version included, parameters as declared), e.g.
 *   `'POST /orders'` or `'PATCH /v1/orders/:id'`; `principal` is the route's
 *   `principal` option, else the first of `req.user.id`, `sub`, `userId`,
 *   `_id` of the request's user (none for an anonymous request).
 * - GraphQL: `'Mutation.<field>'` (`'Mutation.<field>@<alias>'` when aliased);
 *   microservices: `'message <pattern>'`.
 */
export interface RecordLocator {
  /** Namespace of the key. Default `'default'` (as `execute()`). */
  scope?: string;
  /** Who owns the key, e.g. the user id of an HTTP request. Default none (anonymous). */
  principal?: string;
}

/** Options of {@link IdempotencyService.forget}. */
export interface ForgetOptions extends RecordLocator {
  /**
   * Also forget a record still `processing`. Its operation may still be
   * running: a retry then runs it a second time, concurrently, and the
   * original's outcome is discarded (its completion loses the fence). Only
   * for an operation known dead or harmless to repeat. Default `false`: a
   * processing record is refused with `IdempotencyKeyInFlightException`.
   */
  inFlight?: boolean;
  /**
   * The `fence` of a record {@link IdempotencyService.lookup} returned:
   * forget that very record only, not one claimed since (after it expired
   * or was forgotten). Default: the record found now.
   */
  fence?: string;
}

/** A live record as {@link IdempotencyService.lookup} reports it. */
export interface IdempotencyRecordInfo {
  /** `processing` while its operation runs (under a lease), `completed` once its outcome is stored. */
  status: 'processing' | 'completed';
  /**
   * When the lease ends (`processing`: a retry may take the record over
   * then) or the stored outcome expires (`completed`), on this process's
   * clock (the store judged the time left by its own).
   */
  expiresAt: Date;
  /** HTTP status of the stored outcome (200 for `execute()`); `null` while processing. */
  responseStatus: number | null;
  /** The request fingerprint stored with the record; `''` when fingerprints were off. */
  fingerprint: string;
  /**
   * Opaque: identifies this claim of the key. Pass it to `forget()` as
   * `fence` to forget exactly the record looked at.
   */
  fence: string;
}
