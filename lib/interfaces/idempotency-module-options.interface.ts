import type { ExecutionContext } from '@nestjs/common';
import type { IdempotencyStore } from './idempotency-store.interface.js';

/** Options that `@Idempotent()` may set per route, overriding the module's. */
export interface IdempotentOptions {
  /** How long a completed record is kept and replayed, in ms. Default 24 h. */
  ttl?: number;
  /**
   * Lease of an in-flight record, in ms. While the handler runs the lease is
   * extended (heartbeat); once an instance dies, a retry may take over after it.
   * Default 60 s.
   */
  lockTimeout?: number;
  /**
   * Namespace of keys. Default `'<METHOD> <route pattern>'`, e.g. `'POST /orders'`.
   */
  scope?: string | ((context: ExecutionContext) => string);
  /**
   * Who owns the key; part of the record identity, so a key never replays
   * across principals. Default `req.user.id ?? req.user.sub` when present.
   */
  principal?: string | ((context: ExecutionContext) => string | undefined);
  /**
   * Identity of the request, checked on replay (a different one answers 422).
   * Default: SHA-256 of the canonical JSON of method, path, query and body.
   * `false` turns the check off.
   */
  fingerprint?: false | ((context: ExecutionContext) => string);
  /** A decorated route without a key answers 400 when `true` (default); `false` runs it unprotected. */
  required?: boolean;
  /**
   * Which outcomes are stored and replayed; the others release the key.
   * Default: 2xx, and 4xx except 408, 409, 425 and 429.
   */
  cacheable?: (status: number) => boolean;
  /**
   * Response headers stored and replayed. `set-cookie`, `authorization` and
   * hop-by-hop headers are never stored. Default: content-type, location, etag,
   * last-modified, cache-control, content-language.
   */
  replayHeaders?: string[];
  /** Larger responses (JSON-encoded) are sent but not stored. Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * When the store is unreachable: `false` (default) answers 503 with
   * `Retry-After`; `true` runs the handler unprotected and logs it.
   */
  failOpen?: boolean;
}

/** Options of `IdempotencyModule.forRoot()` / `forRootAsync()`; all optional. */
export interface IdempotencyModuleOptions extends IdempotentOptions {
  /**
   * Where records live. Default: a `TypeOrmIdempotencyStore` on the TypeORM
   * DataSource named by `dataSource` (the default DataSource when unset).
   */
  store?: IdempotencyStore;
  /** Name of the TypeORM DataSource of the default store. */
  dataSource?: string;
  /** Request header carrying the key. Default `Idempotency-Key`. */
  header?: string;
  /**
   * Runs `purgeExpired()` every `sweepInterval` ms, on one instance per
   * interval however many share the store. Off by default.
   */
  sweepInterval?: number;
}
