import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DEFAULT_IDEMPOTENT_OPTIONS } from './idempotency.constants.js';
import {
  CLAIM_ATTEMPTS,
  IDEMPOTENCY_OPTIONS,
  MAX_FINGERPRINT_LENGTH,
  PURGE_BATCH_SIZE,
} from './idempotency.internal-constants.js';
import { IdempotencyConfigurationError } from './errors/idempotency-configuration.error.js';
import { IdempotencyStoreConnectionError } from './errors/idempotency-store-connection.error.js';
import { IdempotencyKeyInFlightException } from './exceptions/idempotency-key-in-flight.exception.js';
import { IdempotencyKeyReusedException } from './exceptions/idempotency-key-reused.exception.js';
import { IdempotencyStoreUnavailableException } from './exceptions/idempotency-store-unavailable.exception.js';
import { IdempotentResponseNotStoredException } from './exceptions/idempotent-response-not-stored.exception.js';
import type { IdempotencyModuleOptions } from './interfaces/idempotency-module-options.interface.js';
import {
  IdempotencyStore,
  type ClaimRequest,
  type ClaimResult,
  type IdempotencyRecordId,
  type RecordWatch,
  type StoredResponse,
} from './interfaces/idempotency-store.interface.js';
import { IdempotencyLease, type LeaseTerms } from './protocol/idempotency-lease.js';
import { assertStorableIdentity } from './protocol/record-identity.js';
import { resolveOptions } from './protocol/resolve-options.js';
import { decodeStoredBody, encodeStoredBody } from './protocol/stored-body.js';
import { validateRouteOptions } from './protocol/validate-options.js';

/** A request to run something at most once per (scope, principal, key). */
export interface IdempotencyRequest extends IdempotencyRecordId {
  /** Identity of the payload; `''` skips the mismatch check. */
  fingerprint: string;
}

/** How a request is admitted: run it under a lease, or replay a stored outcome. */
export type Admission =
  | { kind: 'replay'; response: StoredResponse }
  /** `lease` is `null` when the store was unreachable and `failOpen` let the request run unprotected. */
  | { kind: 'run'; lease: IdempotencyLease | null };

/**
 * Terms of one admission: the lease, the record's life, what to do when the
 * store is unreachable, how long to wait for an original still in flight.
 */
export interface AdmissionTerms extends LeaseTerms {
  failOpen: boolean;
  /** Milliseconds a duplicate waits for the original's outcome; 0 answers in flight at once. */
  wait: number;
}

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
}

const STORE_RETRY_AFTER_SECONDS = 5;
/** Most requests finish within a second; the lease (up to `lockTimeout`) only bounds a crashed one. */
const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * The idempotency protocol (claim, run, complete or release), shared by the
 * HTTP interceptor and by code outside HTTP: queue consumers, webhooks, jobs.
 * It knows nothing of HTTP.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger('Idempotency');

  constructor(
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
    @Inject(IDEMPOTENCY_OPTIONS) private readonly options: IdempotencyModuleOptions,
  ) {}

  /**
   * Runs `operation` at most once per (scope, principal, key) while its record
   * lives; a repeat gets the stored result (its JSON round trip) back.
   *
   * Called inside a database transaction of yours, the claim still runs on its
   * own pooled connection: with a pool as small as your concurrent
   * transactions, it can wait for a connection your transaction holds.
   *
   * @throws IdempotencyKeyInFlightException while the first call still runs (past `wait`).
   * @throws IdempotencyKeyReusedException when the key came with another fingerprint.
   * @throws IdempotencyStoreUnavailableException when the store is unreachable (unless `failOpen`).
   * @throws InvalidIdempotencyKeyException for a key that is not 1 to 255 characters of storable text.
   * Errors of `operation` pass through unchanged and release the key.
   *
   * @example
   * return this.idempotency.execute(event.id, () => this.apply(event), { scope: 'stripe-webhook' });
   */
  async execute<T>(key: string, operation: () => T | Promise<T>, options: ExecuteOptions = {}): Promise<T> {
    const { scope = 'default', principal = '', fingerprint = '', ...terms } = options;
    const request = { scope, principal, key, fingerprint };
    const admission = await this.admit(request, this.resolveTerms(validateRouteOptions(terms, 'execute()')));
    if (admission.kind === 'replay') {
      return decodeStoredBody(admission.response.body as Buffer) as T;
    }
    let result: T;
    try {
      result = await operation();
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
   * Claims the record of `request`, or answers from the record in its way.
   *
   * @returns `run` with the lease that must be completed, released or
   *   abandoned, or `replay` with the stored outcome.
   * @throws the same exceptions as {@link execute}, and
   *   IdempotentResponseNotStoredException for an outcome that was not stored.
   *   A store error other than {@link IdempotencyStoreConnectionError} passes through.
   */
  async admit(request: IdempotencyRequest, terms: AdmissionTerms): Promise<Admission> {
    assertStorableIdentity(request);
    // Stores keep fingerprints of up to 64 characters (a SHA-256 hex); a longer one is kept as its SHA-256.
    if (request.fingerprint.length > MAX_FINGERPRINT_LENGTH) {
      request = { ...request, fingerprint: createHash('sha256').update(request.fingerprint).digest('hex') };
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
    let result: ClaimResult;
    try {
      result = await this.claim({ ...request, token, lockTimeout: terms.lockTimeout });
    } catch (error) {
      if (!(error instanceof IdempotencyStoreConnectionError)) {
        this.logger.error('The idempotency store failed (not an outage: answering 500).', error);
        throw error;
      }
      if (terms.failOpen) {
        this.logger.warn(`Store unreachable; running scope "${request.scope}" unprotected (failOpen): ${String(error)}`);
        return { kind: 'run', lease: null };
      }
      this.logger.error('Store unreachable; answering 503 (fail closed).', error);
      throw new IdempotencyStoreUnavailableException(STORE_RETRY_AFTER_SECONDS);
    }
    if (result.claimed) {
      const lease = new IdempotencyLease(this.store, request, token, terms, this.logger, claimedAt);
      if (await lease.ensureFresh()) return { kind: 'run', lease };
      return null;
    }
    const { existing } = result;
    // A row this claim could not see or take over belongs to a concurrent claim.
    if (existing === null || existing.expiresInMs <= 0) return null;
    if (request.fingerprint && existing.fingerprint && request.fingerprint !== existing.fingerprint) {
      throw new IdempotencyKeyReusedException();
    }
    if (existing.status === 'processing' || !existing.response) return null;
    if (existing.response.body === null) throw new IdempotentResponseNotStoredException();
    return { kind: 'replay', response: existing.response };
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

  /** The module's terms, overridden by `overrides` where set. */
  private resolveTerms(overrides: Partial<AdmissionTerms>): AdmissionTerms {
    const { ttl, lockTimeout, failOpen, wait } = resolveOptions(DEFAULT_IDEMPOTENT_OPTIONS, this.options, overrides);
    return { ttl, lockTimeout, failOpen, wait, announce: wait > 0 };
  }

  /**
   * Claims, and claims again when it lost a race to a row its statement could
   * not see (a concurrent insert, or a takeover of a claimable row).
   */
  private async claim(request: ClaimRequest): Promise<ClaimResult> {
    let result = await this.store.claim(request);
    for (let attempt = 1; attempt < CLAIM_ATTEMPTS && !result.claimed; attempt++) {
      if (result.existing && result.existing.expiresInMs > 0) break;
      result = await this.store.claim(request);
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
