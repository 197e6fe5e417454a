import { IdempotencyStoreConnectionError } from '../errors/idempotency-store-connection.error.js';
import type {
  ClaimRequest,
  ClaimResult,
  FoundRecord,
  IdempotencyRecordId,
  IdempotencyStore,
  RecordWatch,
  StoredResponse,
} from '../interfaces/idempotency-store.interface.js';
import { RecordWatchers } from './record-watchers.js';

interface MemoryRecord {
  fingerprint: string;
  token: string;
  expiresAt: number;
  response: StoredResponse | null;
}

/** Options of {@link InMemoryIdempotencyStore}. */
export interface InMemoryIdempotencyStoreOptions {
  /**
   * Most records kept. When full, expired records go first, then the oldest
   * completed ones (down to 90%); a store full of in-flight records refuses
   * new claims (503). Default 10,000.
   */
  maxRecords?: number;
}

/**
 * {@link IdempotencyStore} in process memory: for tests and single-process
 * apps. Records are lost on restart and not shared between instances. Its
 * size is bounded (`maxRecords`), so a long-running process cannot grow
 * without limit even without a sweep. Waiters (`wait`) are woken by
 * in-process events.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();
  private readonly watchers = new RecordWatchers();
  private readonly maxRecords: number;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    this.maxRecords = options.maxRecords ?? 10_000;
    if (!Number.isInteger(this.maxRecords) || this.maxRecords < 1) {
      throw new TypeError(`InMemoryIdempotencyStore: maxRecords must be a positive integer; got ${options.maxRecords}.`);
    }
  }

  /** How many records it holds, expired ones included until they are evicted or purged. */
  get size(): number {
    return this.records.size;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const id = this.idOf(request);
    const existing = this.records.get(id);
    const now = Date.now();
    if (!existing || existing.expiresAt <= now) {
      if (!existing) this.makeRoom(now);
      this.records.set(id, {
        fingerprint: request.fingerprint,
        token: request.token,
        expiresAt: now + request.lockTimeout,
        response: null,
      });
      // A record that ended without a response was in flight: its lease ran out.
      return existing && !existing.response ? { claimed: true, takenOver: true } : { claimed: true };
    }
    return {
      claimed: false,
      existing: {
        fingerprint: existing.fingerprint,
        status: existing.response ? 'completed' : 'processing',
        expiresInMs: existing.expiresAt - now,
        response: existing.response,
      },
    };
  }

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number, announce = false): Promise<boolean> {
    const record = this.owned(id, token);
    if (!record) return false;
    record.response = response;
    record.expiresAt = Date.now() + ttl;
    // Completed records are evicted oldest first: keep the map in completion order.
    this.records.delete(this.idOf(id));
    this.records.set(this.idOf(id), record);
    if (announce) this.watchers.announce(this.idOf(id));
    return true;
  }

  async release(id: IdempotencyRecordId, token: string, announce = false): Promise<boolean> {
    if (!this.owned(id, token)) return false;
    this.records.delete(this.idOf(id));
    if (announce) this.watchers.announce(this.idOf(id));
    return true;
  }

  async watch(id: IdempotencyRecordId): Promise<RecordWatch> {
    return this.watchers.open(this.idOf(id));
  }

  async extendLease(id: IdempotencyRecordId, token: string, lockTimeout: number): Promise<boolean> {
    const record = this.owned(id, token);
    if (!record || record.response) return false;
    record.expiresAt = Date.now() + lockTimeout;
    return true;
  }

  async purgeExpired(limit: number): Promise<number> {
    const now = Date.now();
    let deleted = 0;
    for (const [id, record] of this.records) {
      if (deleted === limit) break;
      if (record.expiresAt <= now && this.records.delete(id)) deleted++;
    }
    return deleted;
  }

  /** Operator API: the live record `id`, or `null` (none, or expired: claimable). */
  async find(id: IdempotencyRecordId): Promise<FoundRecord | null> {
    const record = this.records.get(this.idOf(id));
    const now = Date.now();
    if (!record || record.expiresAt <= now) return null;
    return {
      status: record.response ? 'completed' : 'processing',
      token: record.token,
      fingerprint: record.fingerprint,
      expiresInMs: record.expiresAt - now,
      responseStatus: record.response?.status ?? null,
    };
  }

  /** Makes room for one more record when full. */
  private makeRoom(now: number): void {
    if (this.records.size < this.maxRecords) return;
    for (const [id, record] of this.records) if (record.expiresAt <= now) this.records.delete(id);
    const target = Math.min(this.maxRecords - 1, Math.floor(this.maxRecords * 0.9));
    for (const [id, record] of this.records) {
      if (this.records.size <= target) break;
      if (record.response) this.records.delete(id);
    }
    if (this.records.size >= this.maxRecords) {
      throw new IdempotencyStoreConnectionError(
        `InMemoryIdempotencyStore is full: ${this.maxRecords} requests are in flight. Raise maxRecords.`,
      );
    }
  }

  private owned(id: IdempotencyRecordId, token: string): MemoryRecord | undefined {
    const record = this.records.get(this.idOf(id));
    return record?.token === token ? record : undefined;
  }

  private idOf({ scope, principal, key }: IdempotencyRecordId): string {
    return JSON.stringify([scope, principal, key]);
  }
}
