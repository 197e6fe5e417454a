import type { Logger } from '@nestjs/common';
import type { IdempotencyRecordId, IdempotencyStore, StoredResponse } from '../interfaces/idempotency-store.interface.js';
import type { IdempotencyTransport } from '../observability/idempotency-event.js';
import { decisionEvent, type IdempotencyEvents } from '../observability/idempotency-events.js';
import { heartbeats, type Beating } from './lease-heartbeats.js';

/** How long a lease lives and how long its completed record is kept. */
export interface LeaseTerms {
  ttl: number;
  lockTimeout: number;
  /** Wake the waiters of the record (wait mode) when the lease completes or releases it. */
  announce: boolean;
  /** Where the request under the lease came from, for its events. Default `service`. */
  transport?: IdempotencyTransport;
}

/**
 * How the run of an operation ends, exactly once: its outcome stored
 * (`complete`), the record given up so a retry runs again (`release`), or
 * the outcome in doubt (`abandon`).
 */
export interface Lease {
  complete(response: StoredResponse): Promise<void>;
  release(): Promise<void>;
  abandon(): void;
}

/**
 * The right to run an operation for one record, held through its token.
 * While held, a heartbeat extends the lease every third of `lockTimeout`
 * (give or take a tick of the process's shared heartbeat timer), so a slow
 * operation on a live instance is never taken over. It ends exactly once:
 * `complete()` (the outcome is stored), `release()` (the record is deleted, so
 * a retry runs again) or `abandon()` (the outcome is in doubt: the record
 * stays until its lease runs out, so a retry never runs beside an operation
 * that may still be running). Writes are fenced by the token in the store.
 *
 * Store failures after the operation ran are logged, not thrown: the
 * operation's result is still the caller's to have (see RELIABILITY.md).
 * How it ends is told to `events` (completed, completion failed, released,
 * abandoned, or a store error of the release).
 */
export class IdempotencyLease implements Lease, Beating {
  private ended = false;
  /** When the lease was last renewed (or claimed). */
  private renewedAt: number;

  /**
   * @param claimedAt when the claim was sent (`Date.now()`): the lease runs
   *   `lockTimeout` from a moment no earlier than this.
   */
  constructor(
    private readonly store: IdempotencyStore,
    private readonly id: IdempotencyRecordId,
    private readonly token: string,
    private readonly terms: LeaseTerms,
    private readonly logger: Logger,
    private readonly claimedAt: number,
    private readonly events: IdempotencyEvents,
  ) {
    this.renewedAt = claimedAt;
    heartbeats.add(this);
  }

  /** Renews the lease once a heartbeat period has passed since the last renewal (called by the shared timer). */
  beat(now: number): void {
    if (now - this.renewedAt < this.period) return;
    this.renewedAt = now;
    void this.extend();
  }

  /**
   * Makes sure the lease has most of its time left before the operation
   * starts: when the claim took longer than a heartbeat period (e.g. it waited
   * in a connection pool), the lease is renewed first.
   * @returns `false` when the lease was lost meanwhile (the operation must not run).
   */
  async ensureFresh(): Promise<boolean> {
    const now = Date.now();
    if (now - this.claimedAt < this.period) return true;
    this.renewedAt = now;
    if (await this.extend()) return true;
    this.end();
    return false;
  }

  /** Stores the outcome for replay and ends the lease. */
  async complete(response: StoredResponse): Promise<void> {
    if (!this.end()) return;
    const started = this.events.now();
    const settled = await this.settle('complete', () => this.store.complete(this.id, this.token, response, this.terms.ttl, this.terms.announce));
    if (this.events.enabled) {
      const details = settled === true ? { status: response.status } : settled || undefined;
      this.events.emit(decisionEvent(settled === true ? 'completed' : 'completion-failed', this.id, this.terms, this.events.since(started), details));
    }
  }

  /** Deletes the record so that a retry runs the operation again, and ends the lease. */
  async release(): Promise<void> {
    if (!this.end()) return;
    const started = this.events.now();
    const settled = await this.settle('release', () => this.store.release(this.id, this.token, this.terms.announce));
    if (this.events.enabled) {
      const failure = typeof settled === 'object' ? settled : undefined;
      this.events.emit(decisionEvent(failure ? 'store-error' : 'released', this.id, this.terms, this.events.since(started), failure));
    }
  }

  /**
   * Ends the lease without a write, for an outcome in doubt (the client went
   * away, a timeout fired while the operation may still run): the record stays
   * in flight until its lease runs out, then a retry may take it over.
   */
  abandon(): void {
    if (this.end() && this.events.enabled) this.events.emit(decisionEvent('abandoned', this.id, this.terms, 0));
  }

  private get period(): number {
    return Math.floor(this.terms.lockTimeout / 3);
  }

  /** Renews the lease; `false` when the record is no longer this lease's. */
  private async extend(): Promise<boolean> {
    try {
      if (await this.store.extendLease(this.id, this.token, this.terms.lockTimeout)) return true;
      // A heartbeat that crossed this lease's own completion or release lost nothing.
      if (!this.ended) this.logger.warn(`Lost the lease of ${this.describe()}: another request took it over.`);
      this.stopHeartbeat();
      return false;
    } catch (error) {
      this.logger.warn(`Could not extend the lease of ${this.describe()}: ${String(error)}`);
      return false;
    }
  }

  /** Marks the lease ended; `true` the first time only. */
  private end(): boolean {
    this.stopHeartbeat();
    if (this.ended) return false;
    this.ended = true;
    return true;
  }

  /**
   * Runs the write that ends the lease, logging a failure: `true` when it
   * wrote, `false` when the lease had been taken over, else what the store threw.
   */
  private async settle(action: string, write: () => Promise<boolean>): Promise<boolean | { error: unknown }> {
    try {
      if (await write()) return true;
      this.logger.warn(`Could not ${action} ${this.describe()}: its lease was taken over by another request.`);
      return false;
    } catch (error) {
      this.logger.error(`Could not ${action} ${this.describe()}; it stays in flight until its lease ends.`, error);
      return { error };
    }
  }

  private stopHeartbeat(): void {
    heartbeats.delete(this);
  }

  private describe(): string {
    return `idempotency record ${JSON.stringify([this.id.scope, this.id.principal, this.id.key])}`;
  }
}
