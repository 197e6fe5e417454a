import type { Logger } from '@nestjs/common';
import type { IdempotencyRecordId, IdempotencyStore, StoredResponse } from '../interfaces/idempotency-store.interface.js';

/** How long a lease lives and how long its completed record is kept. */
export interface LeaseTerms {
  ttl: number;
  lockTimeout: number;
}

/**
 * The right to run an operation for one record, held through its token.
 * While held, a heartbeat extends the lease every third of `lockTimeout`, so a
 * slow operation on a live instance is never taken over. It ends with exactly
 * one `complete()` or `release()`; both are fenced by the token in the store.
 *
 * Store failures after the operation ran are logged, not thrown: the
 * operation's result is still the caller's to have (see RELIABILITY.md).
 */
export class IdempotencyLease {
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly id: IdempotencyRecordId,
    private readonly token: string,
    private readonly terms: LeaseTerms,
    private readonly logger: Logger,
  ) {
    this.heartbeat = setInterval(() => void this.extend(), Math.max(1, Math.floor(terms.lockTimeout / 3)));
    this.heartbeat.unref();
  }

  /** Stores the outcome for replay and ends the lease. */
  async complete(response: StoredResponse): Promise<void> {
    this.stopHeartbeat();
    await this.settle('complete', () => this.store.complete(this.id, this.token, response, this.terms.ttl));
  }

  /** Deletes the record so that a retry runs the operation again, and ends the lease. */
  async release(): Promise<void> {
    this.stopHeartbeat();
    await this.settle('release', () => this.store.release(this.id, this.token));
  }

  private async extend(): Promise<void> {
    try {
      if (!(await this.store.extendLease(this.id, this.token, this.terms.lockTimeout))) this.stopHeartbeat();
    } catch (error) {
      this.logger.warn(`Could not extend the lease of ${this.describe()}: ${String(error)}`);
    }
  }

  private async settle(action: string, write: () => Promise<boolean>): Promise<void> {
    try {
      if (!(await write())) {
        this.logger.warn(`Could not ${action} ${this.describe()}: its lease was taken over by another request.`);
      }
    } catch (error) {
      this.logger.error(`Could not ${action} ${this.describe()}; it stays in flight until its lease ends.`, error);
    }
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private describe(): string {
    return `idempotency record ${JSON.stringify([this.id.scope, this.id.principal, this.id.key])}`;
  }
}
