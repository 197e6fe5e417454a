import type { Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { IdempotencyKeyInFlightException } from '../exceptions/idempotency-key-in-flight.exception.js';
import { IdempotencyKeyReusedException } from '../exceptions/idempotency-key-reused.exception.js';
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
import { decisionEvent, type IdempotencyEvents } from '../observability/idempotency-events.js';
import { AtomicLease } from './atomic-lease.js';
import { IdempotencyLease, type Lease, type LeaseTerms } from './idempotency-lease.js';
import { assertStorableIdentity } from './record-identity.js';
import { StoreFailures, UNREACHABLE } from './store-failures.js';

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

/** A claim that met a record in flight, and how long the store took to say so. */
interface InFlight {
  kind: 'in-flight';
  storeLatencyMs: number;
}

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

/** Most requests finish within a second; the lease (up to `lockTimeout`) only bounds a crashed one. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * How a request is admitted to run, or answered from the record in its way:
 * the claim (plain, or inside a transaction in atomic mode), waiting for an
 * original in flight (wait mode). A failed store call is translated by
 * `StoreFailures` (store-failures.ts). The one implementation behind `IdempotencyService.admit()` and so behind the
 * HTTP interceptor and `execute()`. Each decision it makes (claimed, lease
 * taken over, replayed, conflict, mismatch, not stored, store error) is
 * told to `events`, as its leases tell theirs.
 */
export class Admissions {
  private readonly failures: StoreFailures;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly logger: Logger,
    private readonly events: IdempotencyEvents,
  ) {
    this.failures = new StoreFailures(logger, events);
  }

  /**
   * Claims the record of `request`, or answers from the record in its way.
   *
   * @returns `run` with the lease that must be completed, released or
   *   abandoned, or `replay` with the stored outcome.
   * @throws the same exceptions as `IdempotencyService.execute()`, and
   *   IdempotentResponseNotStoredException for an outcome that was not stored.
   *   A store error other than `IdempotencyStoreConnectionError` passes through (see `StoreFailures`).
   */
  async admit(request: IdempotencyRequest, terms: AdmissionTerms, join?: EntityManager): Promise<Admission> {
    assertStorableIdentity(request);
    // Stores keep fingerprints of up to 64 characters (a SHA-256 hex); a longer one is kept as its SHA-256.
    if (request.fingerprint.length > MAX_FINGERPRINT_LENGTH) {
      request = { ...request, fingerprint: createHash('sha256').update(request.fingerprint).digest('hex') };
    }
    if (terms.atomic) {
      const admission = await this.tryAdmitAtomic(request, terms, join);
      if (admission.kind !== 'in-flight') return admission;
      throw this.inFlight(request, terms, admission.storeLatencyMs);
    }
    const admission = await this.tryAdmit(request, terms);
    if (admission.kind !== 'in-flight') return admission;
    if (terms.wait > 0 && this.store.watch) return this.awaitOutcome(request, terms, admission);
    throw this.inFlight(request, terms, admission.storeLatencyMs);
  }

  /**
   * Wait mode: claims again each time the store announces that the record in
   * flight was completed or released, until it replays or runs, or `wait` ms
   * have passed. The watch opens before the claim of each round (the first
   * claim, which met the record in flight, came before it: the round after
   * the watch opens claims again), so an announcement between a claim and
   * the wait is not missed.
   */
  private async awaitOutcome(request: IdempotencyRequest, terms: AdmissionTerms, first: InFlight): Promise<Admission> {
    const deadline = Date.now() + terms.wait;
    let watch: RecordWatch;
    try {
      watch = await this.store.watch!(request);
    } catch (error) {
      this.logger.warn(`Could not wait for ${JSON.stringify(request.key)} (answering 409): ${String(error)}`);
      throw this.inFlight(request, terms, first.storeLatencyMs);
    }
    try {
      for (;;) {
        const admission = await this.tryAdmit(request, terms);
        if (admission.kind !== 'in-flight') return admission;
        if (!(await announced(watch, deadline - Date.now()))) {
          throw this.inFlight(request, terms, admission.storeLatencyMs);
        }
      }
    } finally {
      watch.close();
    }
  }

  /** One claim and what it admits; `in-flight` while another request holds the record. */
  private async tryAdmit(request: IdempotencyRequest, terms: AdmissionTerms): Promise<Admission | InFlight> {
    const token = randomUUID();
    const claimedAt = Date.now();
    const started = this.events.now();
    const result = await this.failures.reach(request, terms, started, () => this.claim({ ...request, token, lockTimeout: terms.lockTimeout }, this.store));
    const storeLatencyMs = this.events.since(started);
    if (result === UNREACHABLE) return { kind: 'run', lease: null };
    if (result.claimed) {
      const lease = new IdempotencyLease(this.store, request, token, terms, this.logger, claimedAt, this.events);
      if (!(await lease.ensureFresh())) return { kind: 'in-flight', storeLatencyMs };
      this.claimed(request, terms, result, storeLatencyMs);
      return { kind: 'run', lease };
    }
    return this.answerFrom(request, terms, result.existing, storeLatencyMs);
  }

  /**
   * Atomic mode: one claim inside a new transaction (or `join`'s), which
   * stays open for the operation when claimed and is rolled back otherwise.
   * A concurrent transaction holding the key is waited for up to `wait` ms
   * (its outcome is invisible until it commits). The store being down is
   * answered 503 even under `failOpen`: the operation writes to it too.
   */
  private async tryAdmitAtomic(request: IdempotencyRequest, terms: AdmissionTerms, join?: EntityManager): Promise<Admission | InFlight> {
    if (!this.store.begin) {
      throw new IdempotencyConfigurationError('Atomic mode needs a store with transactions: the TypeORM store on PostgreSQL or MySQL/MariaDB.');
    }
    const strict = { ...terms, failOpen: false };
    const started = this.events.now();
    const transaction = (await this.failures.reach(request, strict, started, () => this.store.begin!(join))) as IdempotencyTransaction;
    const token = randomUUID();
    try {
      const claim = { ...request, token, lockTimeout: terms.lockTimeout };
      const result = (await this.failures.reach(request, strict, started, () => this.claim(claim, { claim: (c) => transaction.claim(c, terms.wait) }))) as ClaimResult;
      const storeLatencyMs = this.events.since(started);
      if (result.claimed) {
        this.claimed(request, terms, result, storeLatencyMs);
        const lease = new AtomicLease(transaction, request, token, terms, this.logger, this.events);
        return { kind: 'run', lease, manager: transaction.manager as EntityManager };
      }
      await transaction.rollback();
      return this.answerFrom(request, terms, result.existing, storeLatencyMs);
    } catch (error) {
      await transaction.rollback();
      throw error;
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

  /** Tells of a claim: `lease-taken-over` when the store says it took over a lapsed lease. */
  private claimed(request: IdempotencyRequest, terms: AdmissionTerms, result: { takenOver?: boolean }, storeLatencyMs: number): void {
    if (this.events.enabled) this.events.emit(decisionEvent(result.takenOver ? 'lease-taken-over' : 'claimed', request, terms, storeLatencyMs));
  }

  /** The answer to a request whose record stays in flight (past its wait), told as a `conflict`. */
  private inFlight(request: IdempotencyRequest, terms: AdmissionTerms, storeLatencyMs: number): IdempotencyKeyInFlightException {
    if (this.events.enabled) this.events.emit(decisionEvent('conflict', request, terms, storeLatencyMs));
    return new IdempotencyKeyInFlightException(IN_FLIGHT_RETRY_AFTER_SECONDS);
  }

  /**
   * What a request gets from the record that stood in its way: its stored
   * outcome, `in-flight` while it is in flight (or was invisible to the claim).
   * @throws IdempotencyKeyReusedException, IdempotentResponseNotStoredException.
   */
  private answerFrom(request: IdempotencyRequest, terms: AdmissionTerms, existing: ExistingRecord | null, storeLatencyMs: number): Admission | InFlight {
    // A row this claim could not see or take over belongs to a concurrent claim.
    if (existing === null || existing.expiresInMs <= 0) return { kind: 'in-flight', storeLatencyMs };
    if (request.fingerprint && existing.fingerprint && request.fingerprint !== existing.fingerprint) {
      if (this.events.enabled) this.events.emit(decisionEvent('mismatch', request, terms, storeLatencyMs));
      throw new IdempotencyKeyReusedException();
    }
    if (existing.status === 'processing' || !existing.response) return { kind: 'in-flight', storeLatencyMs };
    if (existing.response.body === null) {
      if (this.events.enabled) this.events.emit(decisionEvent('not-stored', request, terms, storeLatencyMs));
      throw new IdempotentResponseNotStoredException();
    }
    if (this.events.enabled) this.events.emit(decisionEvent('replayed', request, terms, storeLatencyMs, { status: existing.response.status }));
    return { kind: 'replay', response: existing.response };
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
