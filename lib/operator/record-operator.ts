import { IdempotencyConfigurationError } from '../errors/idempotency-configuration.error.js';
import { IdempotencyKeyInFlightException } from '../exceptions/idempotency-key-in-flight.exception.js';
import type { FoundRecord, IdempotencyRecordId, IdempotencyStore } from '../interfaces/idempotency-store.interface.js';
import { decisionEvent, type IdempotencyEvents } from '../observability/idempotency-events.js';
import { assertStorableIdentity } from '../protocol/record-identity.js';
import type { ForgetOptions, IdempotencyRecordInfo, RecordLocator } from './operator-options.interface.js';

/**
 * The operator API over a store: reads a record, and deletes one through the
 * protocol's own fence (`release(id, token)`), so it never deletes a claim
 * made after the record it looked at. A deletion is told to `events` as `forgotten`.
 */
export class RecordOperator {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly events: IdempotencyEvents,
  ) {}

  /** The live record of `key`, or `null` (none, expired, or uncommitted in atomic mode). One store round trip. */
  async lookup(key: string, locator: RecordLocator): Promise<IdempotencyRecordInfo | null> {
    const found = await this.find(recordId(key, locator));
    return found && recordInfo(found);
  }

  /**
   * Deletes the record of `key` so its next request runs again: `true` when
   * this call deleted it, `false` when there was none to delete (or it was
   * replaced meanwhile: a fence mismatch). Two store round trips.
   */
  async forget(key: string, { inFlight = false, fence, ...locator }: ForgetOptions): Promise<boolean> {
    const id = recordId(key, locator);
    const started = this.events.now();
    const found = await this.find(id);
    if (!found || (fence !== undefined && fence !== found.token)) return false;
    if (found.status === 'processing' && !inFlight) {
      throw new IdempotencyKeyInFlightException(Math.max(1, Math.ceil(found.expiresInMs / 1000)));
    }
    // A processing record may have waiters (wait mode): wake them so one of them claims it at once.
    const forgotten = await this.store.release(id, found.token, found.status === 'processing');
    if (forgotten && this.events.enabled) this.events.emit(decisionEvent('forgotten', id, {}, this.events.since(started)));
    return forgotten;
  }

  private find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    if (!this.store.find) {
      throw new IdempotencyConfigurationError(
        `IdempotencyService.lookup() and forget() need a store with find(); ${this.store.constructor.name} has none. ` +
          'Implement find(id) on it (see IdempotencyStore), or use a built-in store.',
      );
    }
    return this.store.find(id);
  }
}

/** The record identity an operator names, with the defaults of `execute()`. */
function recordId(key: string, { scope = 'default', principal = '' }: RecordLocator): IdempotencyRecordId {
  const id = { scope, principal, key };
  assertStorableIdentity(id);
  return id;
}

function recordInfo(found: FoundRecord): IdempotencyRecordInfo {
  return {
    status: found.status,
    expiresAt: new Date(Date.now() + found.expiresInMs),
    responseStatus: found.responseStatus,
    fingerprint: found.fingerprint,
    fence: found.token,
  };
}
