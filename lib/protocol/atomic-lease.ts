import type { Logger } from '@nestjs/common';
import type { IdempotencyRecordId, IdempotencyTransaction, StoredResponse } from '../interfaces/idempotency-store.interface.js';
import { decisionEvent, type IdempotencyEvents } from '../observability/idempotency-events.js';
import type { Lease, LeaseTerms } from './idempotency-lease.js';

/**
 * The lease of atomic mode: the record is claimed inside `transaction`, with
 * the operation's own writes, and nobody else can see it before the commit,
 * so there is nothing to renew. Completing it commits the outcome with the
 * writes; releasing or abandoning it rolls both back (an operation in doubt
 * has done nothing once rolled back, and a retry runs it again).
 *
 * Unlike {@link IdempotencyLease}, `complete()` throws when the commit
 * fails: the operation's writes are gone (or, with the connection lost during
 * COMMIT, unknown), so its result must not be reported as done.
 * How it ends is told to `events`, as {@link IdempotencyLease} tells it.
 */
export class AtomicLease implements Lease {
  private ended = false;

  constructor(
    private readonly transaction: IdempotencyTransaction,
    private readonly id: IdempotencyRecordId,
    private readonly token: string,
    private readonly terms: LeaseTerms,
    private readonly logger: Logger,
    private readonly events: IdempotencyEvents,
  ) {}

  async complete(response: StoredResponse): Promise<void> {
    if (!this.end()) return;
    const started = this.events.now();
    try {
      await this.transaction.commit(this.id, this.token, response, this.terms.ttl, this.terms.announce);
    } catch (error) {
      if (this.events.enabled) this.events.emit(decisionEvent('completion-failed', this.id, this.terms, this.events.since(started), { error }));
      throw error;
    }
    if (this.events.enabled) this.events.emit(decisionEvent('completed', this.id, this.terms, this.events.since(started), { status: response.status }));
  }

  async release(): Promise<void> {
    if (!this.end()) return;
    const started = this.events.now();
    await this.rollback();
    if (this.events.enabled) this.events.emit(decisionEvent('released', this.id, this.terms, this.events.since(started)));
  }

  abandon(): void {
    if (!this.end()) return;
    if (this.events.enabled) this.events.emit(decisionEvent('abandoned', this.id, this.terms, 0));
    void this.rollback();
  }

  private async rollback(): Promise<void> {
    try {
      await this.transaction.rollback();
    } catch (error) {
      // The server rolls back a transaction whose connection broke.
      this.logger.warn(`Could not roll back the transaction of key ${JSON.stringify(this.id.key)}: ${String(error)}`);
    }
  }

  private end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    return true;
  }
}
