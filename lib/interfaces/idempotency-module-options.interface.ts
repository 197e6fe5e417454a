import type { ExecutionContext, Type } from '@nestjs/common';
import type { IdempotencyInterceptor } from '../interceptors/idempotency.interceptor.js';
import type { EntityManager } from 'typeorm';
import type { IdempotencyStore } from './idempotency-store.interface.js';
import type { IdempotencyEventListener } from '../observability/idempotency-event.js';

/** Options that `@Idempotent()` may set per route, overriding the module's. */
export interface IdempotentOptions {
  /** How long a completed record is kept and replayed, in ms (0 or more). Default 24 h. */
  ttl?: number;
  /**
   * Lease of an in-flight record, in ms (at least 1000). While the handler
   * runs the lease is extended (heartbeat); once an instance dies, a retry may
   * take over after it. Default 60 s.
   */
  lockTimeout?: number;
  /**
   * Where the key comes from, instead of the transport's own (the
   * `Idempotency-Key` header, an AMQP `messageId`, a NATS `Nats-Msg-Id`
   * header): a function of the input (the request body over HTTP, the
   * resolver's arguments on GraphQL, the message data on a message handler)
   * that returns the key, or `undefined` for none. Required on message
   * handlers of transports without message ids (TCP, Redis, MQTT, Kafka, gRPC).
   *
   * @example @Idempotent({ key: (data: PaymentMessage) => data.paymentId })
   */
  key?: (input: any, context: ExecutionContext) => string | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  /**
   * Namespace of keys. Default: `'<METHOD> <route pattern>'` over HTTP, e.g.
   * `'POST /orders'`; `'Mutation.<field>'` on GraphQL; `'message <pattern>'`
   * on a message handler.
   */
  scope?: string | ((context: ExecutionContext) => string);
  /**
   * Who owns the key; part of the record identity, so a key never replays
   * across principals. Default: the first of `req.user.id`, `sub`, `userId`,
   * `_id`. An authenticated request without any of them is refused (500,
   * logged with this fix) rather than filed under no one.
   */
  principal?: string | ((context: ExecutionContext) => string | undefined);
  /**
   * Identity of the request, checked on replay (a different one answers 422).
   * Default: SHA-256 of the canonical JSON of method, path, query, media type
   * and parsed body (else the raw body); a body no parser read answers 415.
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
  /** Larger response bodies (bytes on the wire) are sent but not stored. Default 1 MiB. */
  maxResponseBytes?: number;
  /**
   * When the store is unreachable (a connection failure, not any error):
   * `false` (default) answers 503 with `Retry-After`; `true` runs the handler
   * unprotected and logs it.
   */
  failOpen?: boolean;
  /**
   * Wait mode: how long, in ms, a duplicate of a request still in flight
   * waits for its outcome (then gets the same response) before it answers
   * 409 with `Retry-After`. The store wakes it (PostgreSQL `LISTEN/NOTIFY`,
   * Redis pub/sub, in-process events for the in-memory and SQLite stores),
   * never polling. A client may ask for less with `Prefer: wait=<seconds>`
   * (RFC 7240); this option is the cap. Default 0: answer 409 at once; on
   * message handlers, `lockTimeout` (a redelivered message waits for the
   * first delivery's outcome rather than failing).
   */
  wait?: number;
  /**
   * Atomic mode (TypeORM store on PostgreSQL or MySQL/MariaDB): the claim, the handler's own
   * writes and the completion commit in ONE transaction, and the response
   * leaves after the commit. The handler writes with the `EntityManager` of
   * `@TransactionManager()`. A throw, an outcome that is not stored, or a
   * crash before the commit rolls back both the record and the writes; a
   * concurrent duplicate waits for the commit up to `wait` ms, then answers
   * 409. The store being unreachable answers 503 even under `failOpen`.
   * Default `false`.
   */
  atomic?: boolean;
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
  /**
   * The interceptor class to register, to customise how keys, scopes,
   * principals or fingerprints are read: a class that extends
   * `IdempotencyInterceptor` and overrides its `protected` methods. It
   * replaces the built-in one (register no other idempotency interceptor).
   */
  interceptor?: Type<IdempotencyInterceptor>;
  /**
   * Atomic mode: also hands the request's transaction to code that reaches
   * transactions another way while the handler (or `execute()`'s operation)
   * runs, e.g. `ClsTransactionContext` from `nestjs-idempotency/cls` for
   * `@nestjs-cls/transactional`'s `TransactionHost`.
   */
  transactionContext?: TransactionContext;
  /**
   * RabbitMQ consumers: set `noAck` to your RMQ server's `noAck`. With
   * `noAck: false` (manual acknowledgements) the library acknowledges the
   * duplicates it answers without running the handler, requeues (after
   * `Retry-After`) those whose first delivery is still in flight or whose
   * store is down, and rejects without requeue those it refuses (a key
   * reused with another payload, a missing key). Default `{ noAck: true }`,
   * Nest's default.
   */
  rmq?: { noAck: boolean };
  /**
   * Called with every decision of the protocol, for HTTP routes, GraphQL
   * mutations, message handlers and `IdempotencyService.execute()` alike:
   * claimed, replayed, conflict, mismatch, completed, released, lease taken
   * over, completion failed, store error... (see `IdempotencyEvent`).
   * It runs inline; an error it throws is logged and never fails the request.
   * Unset (with Nest's `debug` log level off and no OpenTelemetry
   * MeterProvider) the protocol measures and builds nothing.
   *
   * @example onEvent: (event) => events.emit('idempotency', event)
   */
  onEvent?: IdempotencyEventListener;
}

/** Makes a transaction's `EntityManager` the current one for code run by {@link TransactionContext.run}. */
export interface TransactionContext {
  /** Runs `work` (synchronously) in a context where `manager` is the active transaction; returns what it returns. */
  run<T>(manager: EntityManager, work: () => T): T;
}
