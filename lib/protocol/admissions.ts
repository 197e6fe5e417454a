import type { Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { IdempotencyStoreConnectionError } from '../errors/idempotency-store-connection.error.js';
import { IdempotencyKeyInFlightException } from '../exceptions/idempotency-key-in-flight.exception.js';
import { IdempotencyKeyReusedException } from '../exceptions/idempotency-key-reused.exception.js';
import { IdempotencyStoreUnavailableException } from '../exceptions/idempotency-store-unavailable.exception.js';
import { IdempotentResponseNotStoredException } from '../exceptions/idempotent-response-not-stored.exception.js';
import { CLAIM_ATTEMPTS, MAX_FINGERPRINT_LENGTH } from '../idempotency.internal-constants.js';
import type {
  ClaimRequest,
  ClaimResult,
  ExistingRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  IdempotencyTransaction,
  RecordWatch,
  StoredResponse,
} from '../interfaces/idempotency-store.interface.js';
import { AtomicLease } from './atomic-lease.js';
import { IdempotencyLease, type Lease, type LeaseTerms } from './idempotency-lease.js';
import { assertStorableIdentity } from './record-identity.js';

/** A request to run something at most once per (scope, principal, key). */
export interface IdempotencyRequest extends IdempotencyRecordId {
  /** Identity of the payload; `''` skips the mismatch check. */
  fingerprint: string;
}

/** How a request is admitted: run it under a lease, or replay a stored outcome. */
export type Admission =
  | { kind: 'replay'; response: StoredResponse }
  /**
   * `lease` is `null` when the store was unreachable and `failOpen` let the
   * request run unprotected. `manager` (atomic mode) is what the operation
   * writes with: an `EntityManager` on the transaction of the record.
   */
  | { kind: 'run'; lease: Lease | null; manager?: EntityManager };

/**
 * Terms of one admission: the lease, the record's life, what to do when the
 * store is unreachable, how long to wait for an original still in flight.
 */
export interface AdmissionTerms extends LeaseTerms {
  failOpen: boolean;
  /** Milliseconds a duplicate waits for the original's outcome; 0 answers in flight at once. */
  wait: number;
  /** Claim, the operation's writes and completion in one transaction of the store (atomic mode). */
  atomic: boolean;
}

const STORE_RETRY_AFTER_SECONDS = 5;
/** Most requests finish within a second; the lease (up to `lockTimeout`) only bounds a crashed one. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * How a request is admitted to run, or answered from the record in its way:
 * the claim (plain, or inside a transaction in atomic mode), waiting for an
 * original in flight (wait mode), and what an unreachable store means. The
 * one implementation behind `IdempotencyService.admit()` and so behind the
 * HTTP interceptor and `execute()`.
 */
export class Admissions {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Claims the record of `request`, or answers from the record in its way.
   *
   * @returns `run` with the lease that must be completed, released or
   *   abandoned, or `replay` with the stored outcome.
   * @throws the same exceptions as `IdempotencyService.execute()`, and
   *   IdempotentResponseNotStoredException for an outcome that was not stored.
   *   A store error other than {@link IdempotencyStoreConnectionError} passes through.
   */
  async admit(request: IdempotencyRequest, terms: AdmissionTerms, join?: EntityManager): Promise<Admission> {
    assertStorableIdentity(request);
    // Stores keep fingerprints of up to 64 characters (a SHA-256 hex); a longer one is kept as its SHA-256.
    if (request.fingerprint.length > MAX_FINGERPRINT_LENGTH) {
      request = { ...request, fingerprint: createHash('sha256').update(request.fingerprint).digest('hex') };
    }
    if (terms.atomic) {
      const admission = await this.tryAdmitAtomic(request, terms, join);
      if (admission) return admission;
      throw new IdempotencyKeyInFlightException(IN_FLIGHT_RETRY_AFTER_SECONDS);
    }
    const admission = await this.tryAdmit(request, terms);
    if (admission) return admission;
    if (terms.wait > 0 && this.store.watch) return this.awaitOutcome(request, terms);
    throw new IdempotencyKeyInFlightException(IN_FLIGHT_RETRY_AFTER_SECONDS);
  }

  /**
   * Wait mode: claims again each time the store announces that the record in
   * flight was completed or released, until it replays or runs, or `wait` ms
   * have passed. The watch opens before the first claim, so an announcement
   * between a claim and the wait is not missed.
   */
  private async awaitOutcome(request: IdempotencyRequest, terms: AdmissionTerms): Promise<Admission> {
    const deadline = Date.now() + terms.wait;
    let watch: RecordWatch;
    try {
      watch = await this.store.watch!(request);
    } catch (error) {
      this.logger.warn(`Could not wait for ${JSON.stringify(request.key)} (answering 409): ${String(error)}`);
      throw new IdempotencyKeyInFlightException(IN_FLIGHT_RETRY_AFTER_SECONDS);
    }
    try {
      for (;;) {
        const admission = await this.tryAdmit(request, terms);
        if (admission) return admission;
        if (!(await announced(watch, deadline - Date.now()))) {
          throw new IdempotencyKeyInFlightException(IN_FLIGHT_RETRY_AFTER_SECONDS);
        }
      }
    } finally {
      watch.close();
    }
  }

  /** One claim and what it admits; `null` while another request holds the record. */
  private async tryAdmit(request: IdempotencyRequest, terms: AdmissionTerms): Promise<Admission | null> {
    const token = randomUUID();
    const claimedAt = Date.now();
    const result = await this.reach(request, terms, () => this.claim({ ...request, token, lockTimeout: terms.lockTimeout }, this.store));
    if (result === UNREACHABLE) return { kind: 'run', lease: null };
    if (result.claimed) {
      const lease = new IdempotencyLease(this.store, request, token, terms, this.logger, claimedAt);
      return (await lease.ensureFresh()) ? { kind: 'run', lease } : null;
    }
    return answerFrom(request, result.existing);
  }

  /**
   * Atomic mode: one claim inside a new transaction (or `join`'s), which
   * stays open for the operation when claimed and is rolled back otherwise.
   * A concurrent transaction holding the key is waited for up to `wait` ms
   * (its outcome is invisible until it commits). The store being down is
   * answered 503 even under `failOpen`: the operation writes to it too.
   */
  private async tryAdmitAtomic(request: IdempotencyRequest, terms: AdmissionTerms, join?: EntityManager): Promise<Admission | null> {
    if (!this.store.begin) {
      throw new IdempotencyConfigurationError('Atomic mode needs a store with transactions: the TypeORM store on PostgreSQL or MySQL/MariaDB.');
    }
    const strict = { ...terms, failOpen: false };
    const transaction = (await this.reach(request, strict, () => this.store.begin!(join))) as IdempotencyTransaction;
    const token = randomUUID();
    try {
      const claim = { ...request, token, lockTimeout: terms.lockTimeout };
      const result = (await this.reach(request, strict, () => this.claim(claim, { claim: (c) => transaction.claim(c, terms.wait) }))) as ClaimResult;
      if (result.claimed) {
        return { kind: 'run', lease: new AtomicLease(transaction, request, token, terms, this.logger), manager: transaction.manager as EntityManager };
      }
      await transaction.rollback();
      return answerFrom(request, result.existing);
    } catch (error) {
      await transaction.rollback();
      throw error;
    }
  }

  /**
   * Runs a store operation, translating its failure: an unreachable store is
   * 503 (or {@link UNREACHABLE} under `failOpen`); any other error passes as is (500).
   */
  private async reach<T>(request: IdempotencyRequest, terms: AdmissionTerms, operation: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof IdempotencyStoreConnectionError)) {
        if (!(error instanceof IdempotencyConfigurationError)) this.logger.error('The idempotency store failed (not an outage: answering 500).', error);
        throw error;
      }
      if (terms.failOpen) {
        this.logger.warn(`Store unreachable; running scope "${request.scope}" unprotected (failOpen): ${String(error)}`);
        return UNREACHABLE;
      }
      this.logger.error('Store unreachable; answering 503 (fail closed).', error);
      throw new IdempotencyStoreUnavailableException(STORE_RETRY_AFTER_SECONDS);
    }
  }

  /**
   * Claims, and claims again when it lost a race to a row its statement could
   * not see (a concurrent insert, or a takeover of a claimable row).
   */
  private async claim(request: ClaimRequest, records: Pick<IdempotencyStore, 'claim'>): Promise<ClaimResult> {
    let result = await records.claim(request);
    for (let attempt = 1; attempt < CLAIM_ATTEMPTS && !result.claimed; attempt++) {
      if (result.existing && result.existing.expiresInMs > 0) break;
      result = await records.claim(request);
    }
    return result;
  }
}

/** Whether `watch` heard an announcement within `ms` milliseconds. */
function announced(watch: RecordWatch, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void watch.next().then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** What {@link Admissions.reach} answers for an unreachable store under `failOpen`. */
const UNREACHABLE = Symbol('unreachable');

/**
 * What a request gets from the record that stood in its way: its stored
 * outcome, `null` while it is in flight (or was invisible to the claim).
 * @throws IdempotencyKeyReusedException, IdempotentResponseNotStoredException.
 */
function answerFrom(request: IdempotencyRequest, existing: ExistingRecord | null): Admission | null {
  // A row this claim could not see or take over belongs to a concurrent claim.
  if (existing === null || existing.expiresInMs <= 0) return null;
  if (request.fingerprint && existing.fingerprint && request.fingerprint !== existing.fingerprint) {
    throw new IdempotencyKeyReusedException();
  }
  if (existing.status === 'processing' || !existing.response) return null;
  if (existing.response.body === null) throw new IdempotentResponseNotStoredException();
  return { kind: 'replay', response: existing.response };
}
