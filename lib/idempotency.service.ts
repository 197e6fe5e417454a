import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DEFAULT_IDEMPOTENT_OPTIONS } from './idempotency.constants.js';
import { IDEMPOTENCY_OPTIONS, PURGE_BATCH_SIZE } from './idempotency.internal-constants.js';
import { IdempotencyConfigurationError } from './errors/idempotency-configuration.error.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import { IdempotencyStore } from './interfaces/idempotency-store.interface.js';
import { IdempotencyEvents } from './observability/idempotency-events.js';
import { Admissions, type Admission, type AdmissionTerms, type IdempotencyRequest } from './protocol/admissions.js';
import { resolveOptions } from './protocol/resolve-options.js';
import { decodeStoredBody, encodeStoredBody } from './protocol/stored-body.js';
import { validateRouteOptions } from './protocol/validate-options.js';
import type { ForgetOptions, IdempotencyRecordInfo, RecordLocator } from './operator/operator-options.interface.js';
import { RecordOperator } from './operator/record-operator.js';

/** Options of {@link IdempotencyService.execute}. */
export interface ExecuteOptions {
  /** Namespace of the key, e.g. `'stripe-webhook'`. Default `'default'`. */
  scope?: string;
  /** Who owns the key; part of the record identity. Default none. */
  principal?: string;
  /**
   * Identity of the input (e.g. a hash of the event payload). A repeat with
   * the same key and another fingerprint throws {@link IdempotencyKeyReusedException}.
   */
  fingerprint?: string;
  /** How long the result is kept and returned to repeats, in ms. Default: the module's `ttl`. */
  ttl?: number;
  /** Lease of the running operation, in ms (at least 1000). Default: the module's `lockTimeout`. */
  lockTimeout?: number;
  /** Run the operation unprotected when the store is unreachable. Default: the module's `failOpen`. */
  failOpen?: boolean;
  /**
   * Wait up to this many ms for a first call still in flight, then return
   * its result. Default: the module's `wait` (0: throw in flight at once).
   */
  wait?: number;
  /**
   * Atomic mode: the claim, the writes `operation` makes with the
   * `EntityManager` it is handed, and the completion commit in one
   * transaction (TypeORM store on PostgreSQL or MySQL/MariaDB). A failure or a crash before
   * the commit leaves neither the record nor the writes. Default: the module's `atomic`.
   */
  atomic?: boolean;
  /**
   * Your transaction's `EntityManager`: the claim and completion join that
   * transaction (in a savepoint, on its connection) and `operation` is handed
   * it; you commit. Implies `atomic`.
   */
  manager?: EntityManager;
}

/** Options of {@link IdempotencyService.execute} that hand `operation` a transaction's `EntityManager`. */
export type AtomicExecuteOptions = ExecuteOptions & ({ atomic: true } | { manager: EntityManager });

/**
 * The idempotency protocol (claim, run, complete or release), shared by the
 * HTTP interceptor and by code outside HTTP: queue consumers, webhooks, jobs.
 * It knows nothing of HTTP.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger('Idempotency');

  private readonly admissions: Admissions;

  private readonly operator: RecordOperator;

  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions,
    events: IdempotencyEvents,
  ) {
    this.admissions = new Admissions(store, this.logger, events);
    this.operator = new RecordOperator(store, events);
  }

  /**
   * Runs `operation` at most once per (scope, principal, key) while its record
   * lives; a repeat gets the stored result (its JSON round trip) back.
   *
   * Called inside a database transaction of yours, pass its `manager`: the
   * claim and completion then join it, on its connection (otherwise the claim
   * runs on a pooled connection of its own, and a pool as small as your
   * concurrent transactions can make it wait for the one yours holds).
   * With `atomic: true`, the record and `operation`'s writes (through the
   * `EntityManager` it is handed) commit together, or not at all.
   *
   * @throws IdempotencyKeyInFlightException while the first call still runs (past `wait`).
   * @throws IdempotencyKeyReusedException when the key came with another fingerprint.
   * @throws IdempotencyStoreUnavailableException when the store is unreachable (unless `failOpen`).
   * @throws InvalidIdempotencyKeyException for a key that is not 1 to 255 characters of storable text.
   * Errors of `operation` pass through unchanged and release the key.
   *
   * @example
   * return this.idempotency.execute(event.id, () => this.apply(event), { scope: 'stripe-webhook' });
   * @example
   * return this.idempotency.execute(event.id, (manager) => manager.save(Payment, payment), { scope: 'payments', atomic: true });
   */
  execute<T>(key: string, operation: (manager: EntityManager) => T | Promise<T>, options: AtomicExecuteOptions): Promise<T>;
  execute<T>(key: string, operation: () => T | Promise<T>, options?: ExecuteOptions): Promise<T>;
  async execute<T>(key: string, operation: (manager: EntityManager) => T | Promise<T>, options: ExecuteOptions = {}): Promise<T> {
    const { scope = 'default', principal = '', fingerprint = '', manager, ...terms } = options;
    const request = { scope, principal, key, fingerprint };
    const resolved = this.resolveTerms(validateRouteOptions(terms, 'execute()'));
    const admission = await this.admit(request, manager ? { ...resolved, atomic: true, announce: false } : resolved, manager);
    if (admission.kind === 'replay') {
      return decodeStoredBody(admission.response.body as Buffer) as T;
    }
    let result: T;
    try {
      result = await this.inTransaction(admission, () => operation((admission.manager ?? manager) as EntityManager));
    } catch (error) {
      await admission.lease?.release();
      throw error;
    }
    let body: Buffer | null;
    try {
      body = encodeStoredBody(result);
    } catch {
      body = null; // not JSON-encodable (BigInt, cycle): completed but not replayable, never run twice
    }
    await admission.lease?.complete({ status: 200, headers: {}, body });
    return result;
  }

  /**
   * Runs `work` (a handler, an operation) so that, in atomic mode, the
   * module's `transactionContext` hands it the admission's transaction too.
   */
  inTransaction<T>(admission: Admission, work: () => T): T {
    const context = this.options.transactionContext;
    return admission.kind === 'run' && admission.manager && context ? context.run(admission.manager, work) : work();
  }

  /**
   * Claims the record of `request`, or answers from the record in its way
   * (see {@link Admissions}); `join` is the caller's transaction (atomic mode).
   *
   * @returns `run` with the lease that must be completed, released or
   *   abandoned, or `replay` with the stored outcome.
   * @throws the same exceptions as {@link execute}, and
   *   IdempotentResponseNotStoredException for an outcome that was not stored.
   *   A store error other than `IdempotencyStoreConnectionError` passes through.
   */
  admit(request: IdempotencyRequest, terms: AdmissionTerms, join?: EntityManager): Promise<Admission> {
    return this.admissions.admit(request, terms, join);
  }

  /**
   * Deletes expired records, `batchSize` per statement, until none is left.
   * @returns how many records were deleted.
   */
  async purgeExpired(batchSize = PURGE_BATCH_SIZE): Promise<number> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new IdempotencyConfigurationError(`purgeExpired(batchSize): batchSize must be a positive integer; got ${batchSize}.`);
    }
    let total = 0;
    for (;;) {
      const deleted = await this.store.purgeExpired(batchSize);
      total += deleted;
      if (deleted < batchSize) return total;
    }
  }

  /**
   * Operator API: the live record of `key` (status, expiry, stored status
   * code), or `null` when there is none: never written, expired, or still
   * inside an uncommitted atomic transaction. One store round trip.
   * `scope` and `principal` name the record as it was written (see
   * {@link RecordLocator}: an HTTP route's is `'<METHOD> <route pattern>'`
   * and the request's user id).
   *
   * @throws IdempotencyConfigurationError when the store has no `find()`.
   * @example
   * await this.idempotency.lookup('order-7f3a', { scope: 'POST /orders', principal: user.id });
   */
  lookup(key: string, locator: RecordLocator = {}): Promise<IdempotencyRecordInfo | null> {
    return this.operator.lookup(key, locator);
  }

  /**
   * Operator API: deletes the record of `key`, so its next request runs the
   * operation again instead of replaying (e.g. support lets a customer retry
   * a stored failure). Fenced like the protocol: it deletes the record it
   * found (or the one of `fence`) and never a claim made meanwhile.
   *
   * Warning: the stored outcome is gone for good, and a retry runs the
   * operation a second time; forget only what is safe to run again.
   *
   * @returns `true` when it deleted the record; `false` when there was none
   *   (or it was replaced meanwhile, or `fence` names another one).
   * @throws IdempotencyKeyInFlightException for a `processing` record
   *   unless `inFlight: true` (its operation may still be running).
   * @throws IdempotencyConfigurationError when the store has no `find()`.
   * @example
   * await this.idempotency.forget('order-7f3a', { scope: 'POST /orders', principal: user.id });
   */
  forget(key: string, options: ForgetOptions = {}): Promise<boolean> {
    return this.operator.forget(key, options);
  }

  /** The module's terms, overridden by `overrides` where set. */
  private resolveTerms(overrides: Partial<AdmissionTerms>): AdmissionTerms {
    const { ttl, lockTimeout, failOpen, wait, atomic } = resolveOptions(DEFAULT_IDEMPOTENT_OPTIONS, this.options, overrides);
    return { ttl, lockTimeout, failOpen, wait, atomic, announce: wait > 0 && !atomic, transport: 'service' };
  }
}
