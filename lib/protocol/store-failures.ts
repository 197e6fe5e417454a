import type { Logger } from '@nestjs/common';
import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { IdempotencyStoreConnectionError } from '../errors/idempotency-store-connection.error.js';
import { IdempotencyStoreUnavailableException } from '../exceptions/idempotency-store-unavailable.exception.js';
import type { IdempotencyRecordId } from '../interfaces/idempotency-store.interface.js';
import type { IdempotencyTransport } from '../observability/idempotency-event.js';
import { decisionEvent, type IdempotencyEvents } from '../observability/idempotency-events.js';

const STORE_RETRY_AFTER_SECONDS = 5;

/** What {@link StoreFailures.reach} answers for an unreachable store under `failOpen`. */
export const UNREACHABLE = Symbol('unreachable');

/** The terms that decide what a store failure means for a request. */
interface FailureTerms {
  failOpen: boolean;
  transport?: IdempotencyTransport;
}

/**
 * What a failed store call means for the request that made it: an
 * unreachable store ({@link IdempotencyStoreConnectionError}) answers 503, or
 * lets the request run unprotected under `failOpen`; any other error passes
 * as is (500); a misconfiguration passes untold. Each failure is logged and
 * told as a `store-error`.
 */
export class StoreFailures {
  constructor(
    private readonly logger: Logger,
    private readonly events: IdempotencyEvents,
  ) {}

  /** Runs `operation` for the record `id`, translating its failure; `started` (from `events.now()`) times the `store-error`. */
  async reach<T>(id: IdempotencyRecordId, terms: FailureTerms, started: number, operation: () => Promise<T>): Promise<T | typeof UNREACHABLE> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof IdempotencyConfigurationError) throw error;
      const unreachable = error instanceof IdempotencyStoreConnectionError;
      if (this.events.enabled) {
        const failedOpen = unreachable && terms.failOpen;
        this.events.emit(decisionEvent('store-error', id, terms, this.events.since(started), { error, failedOpen }));
      }
      if (!unreachable) {
        this.logger.error('The idempotency store failed (not an outage: answering 500).', error);
        throw error;
      }
      if (terms.failOpen) {
        this.logger.warn(`Store unreachable; running scope "${id.scope}" unprotected (failOpen): ${String(error)}`);
        return UNREACHABLE;
      }
      this.logger.error('Store unreachable; answering 503 (fail closed).', error);
      throw new IdempotencyStoreUnavailableException(STORE_RETRY_AFTER_SECONDS);
    }
  }
}
