/**
 * The identity of an idempotency record: the unique constraint that serves as
 * the lock. `principal` is `''` when the caller is anonymous.
 */
export interface IdempotencyRecordId {
  /** Namespace of the key, e.g. `'POST /orders'` or `'stripe-webhook'`. */
  scope: string;
  /** Who owns the key (a user id), `''` for nobody. */
  principal: string;
  /** The idempotency key the client sent. */
  key: string;
}

/** An outcome stored by `complete()` and handed back on a replay. */
export interface StoredResponse {
  /** HTTP status of the outcome (200 for `IdempotencyService.execute()`). */
  status: number;
  /** Replayable response headers, names in lower case. */
  headers: Record<string, string>;
  /**
   * The body bytes as they were sent (HTTP), or the JSON encoding of the
   * result of `execute()` (an empty buffer for `undefined`); `null` when the
   * outcome was not stored (a stream, or over `maxResponseBytes`).
   */
  body: Buffer | null;
}

/** What `claim()` needs to insert or take over a record. */
export interface ClaimRequest extends IdempotencyRecordId {
  /** Identity of the request payload; `''` when fingerprints are off. */
  fingerprint: string;
  /** A fresh random token that fences every later write of this claim. */
  token: string;
  /** Length of the lease in milliseconds. */
  lockTimeout: number;
}

/** A record that exists and could not be claimed. */
export interface ExistingRecord {
  fingerprint: string;
  status: 'processing' | 'completed';
  /**
   * Milliseconds until the record expires (completed) or its lease ends
   * (processing). Zero or less means the record was claimable.
   */
  expiresInMs: number;
  /** The stored outcome of a completed record. */
  response: StoredResponse | null;
}

/**
 * The answer of `claim()`: either the caller now owns the record, or the
 * record that stood in its way. `existing` is `null` when a concurrent claim
 * holds a row this statement could not see yet; callers claim again.
 * `takenOver` (optional: stores that can tell without another round trip)
 * is `true` when the claim took over a `processing` record whose lease had
 * run out (its owner crashed or stalled), not when it inserted the record or
 * took over an expired completed one; it feeds the `lease-taken-over` event.
 */
export type ClaimResult = { claimed: true; takenOver?: boolean } | { claimed: false; existing: ExistingRecord | null };

/**
 * A live record as {@link IdempotencyStore.find} reads it, for the operator
 * API (`IdempotencyService.lookup()` / `forget()`).
 */
export interface FoundRecord {
  /** `processing` while its lease runs, `completed` once an outcome is stored. */
  status: 'processing' | 'completed';
  /**
   * The token of the claim that owns the record: hand it to `release()` to
   * delete exactly this record and never a newer claim made meanwhile.
   */
  token: string;
  /** Identity of the request payload; `''` when fingerprints were off. */
  fingerprint: string;
  /**
   * Milliseconds until the lease ends (`processing`) or the stored outcome
   * expires (`completed`), by the store's own clock (database time on SQL
   * stores), as in {@link ExistingRecord.expiresInMs}; always above zero.
   */
  expiresInMs: number;
  /** HTTP status of the stored outcome; `null` while `processing`. */
  responseStatus: number | null;
}

/**
 * Storage contract of idempotency records. Every method is one atomic
 * operation (one database round trip for SQL stores); `complete`, `release`
 * and `extendLease` only act while `token` still owns the record. Throw
 * `IdempotencyStoreConnectionError` when the backend is unreachable (the only
 * error answered 503, or run unprotected under `failOpen`); any other error
 * is taken as permanent.
 *
 * Implement it to keep records somewhere else and pass it as the `store`
 * module option. The same name is the injection token of the store in use.
 */
export interface IdempotencyStore {
  /**
   * Inserts the record as `processing`, or takes it over when it expired or
   * its lease ran out. Never check-then-insert.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Stores the outcome and keeps it for `ttl` ms. Resolves `false` when the
   * token lost the record. With `announce`, wakes the waiters of `watch()`
   * (in every process) once the outcome is visible.
   */
  complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce?: boolean): Promise<boolean>;
  /**
   * Deletes the record so a retry runs again. Resolves `false` when the token
   * lost the record. With `announce`, wakes the waiters of `watch()`.
   */
  release(id: IdempotencyRecordId, token: string, announce?: boolean): Promise<boolean>;
  /** Extends the lease of a `processing` record by `lockTimeout` ms from now. */
  extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean>;
  /** Deletes up to `limit` expired records; resolves how many. */
  purgeExpired(limit: number): Promise<number>;
  /**
   * Operator API (optional): reads the record `id` in one round trip, or
   * `null` when there is none or it is claimable: a completed record past its
   * expiry or a processing one whose lease ran out, judged by the same clock
   * and rule as `claim()` (database time on SQL stores). Never writes.
   * `IdempotencyService.lookup()` and `forget()` need it and throw an
   * `IdempotencyConfigurationError` on a store without it.
   */
  find?(id: IdempotencyRecordId): Promise<FoundRecord | null>;
  /**
   * Wait mode (optional): listens for the announcements of `complete()` and
   * `release()` on the record `id`, in every process that shares the store.
   * Resolves once listening, so an announcement made after it resolves is
   * never missed. Stores without it cannot wait: duplicates answer 409 at once.
   */
  watch?(id: IdempotencyRecordId): Promise<RecordWatch>;
  /**
   * Atomic mode (optional): opens a transaction in which the claim, the
   * operation's own writes and the completion commit together, or joins the
   * transaction of `join` (a TypeORM `EntityManager` of a transaction in
   * progress) inside a savepoint.
   */
  begin?(join?: unknown): Promise<IdempotencyTransaction>;
  /**
   * Optional startup check (e.g. that a table exists), called once when the
   * module initializes. Throw an error that names the fix.
   */
  verify?(uses?: StoreUses): Promise<void>;
}

/**
 * A transaction of atomic mode, from {@link IdempotencyStore.begin}. Its
 * record stays invisible to other transactions until it commits: a
 * concurrent claim of the same key waits for the outcome (up to its `wait`).
 */
export interface IdempotencyTransaction {
  /** What the operation writes with: for the TypeORM stores, an `EntityManager` on the transaction. */
  readonly manager: unknown;
  /**
   * Claims inside the transaction. A claim that met a concurrent transaction
   * holding the key and waited `wait` ms for it in vain answers as in flight
   * (a processing record), and leaves the transaction to roll back.
   */
  claim(request: ClaimRequest, wait: number): Promise<ClaimResult>;
  /**
   * Completes the claimed record and commits (a joined transaction: releases
   * its savepoint; the caller commits).
   * @throws when the commit failed: nothing of the transaction was kept, or
   *   (a connection lost during COMMIT) its outcome is unknown. A retry is safe either way.
   */
  commit(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce: boolean): Promise<void>;
  /** Rolls back (a joined transaction: to its savepoint). Does nothing once ended. */
  rollback(): Promise<void>;
}

/** What the app's routes and options use of a store, for {@link IdempotencyStore.verify}. */
export interface StoreUses {
  /** Some route is atomic (`begin()`). */
  transactions: boolean;
  /** Some route that is not atomic waits for duplicates (`watch()`); atomic ones wait in the database. */
  waiting: boolean;
  /**
   * The largest `maxResponseBytes` of the module and of its HTTP routes: the
   * largest body `complete()` may be asked to store from HTTP (a store with
   * a size limit, like DynamoDB's 400 KB item, refuses a larger one at startup).
   */
  maxResponseBytes?: number;
}

/** A subscription to the announcements of one record, from {@link IdempotencyStore.watch}. */
export interface RecordWatch {
  /**
   * Resolves at the first announcement not yet consumed: one made since the
   * watch opened or since the previous `next()` resolved.
   */
  next(): Promise<void>;
  /** Stops listening; a pending `next()` never resolves. */
  close(): void;
}

/** Injection token of the {@link IdempotencyStore} in use. */
export const IdempotencyStore = Symbol.for('nestjs-idempotency:IdempotencyStore');
