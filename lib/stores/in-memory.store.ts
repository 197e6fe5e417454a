import type {
  ClaimRequest,
  ClaimResult,
  IdempotencyRecordId,
  IdempotencyStore,
  StoredResponse,
} from '../interfaces/idempotency-store.interface.js';

interface MemoryRecord {
  fingerprint: string;
  token: string;
  expiresAt: number;
  response: StoredResponse | null;
}

/**
 * {@link IdempotencyStore} in process memory: for tests and single-process
 * apps. Records are lost on restart and not shared between instances.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const id = this.idOf(request);
    const existing = this.records.get(id);
    const now = Date.now();
    if (!existing || existing.expiresAt <= now) {
      this.records.set(id, {
        fingerprint: request.fingerprint,
        token: request.token,
        expiresAt: now + request.lockTimeout,
        response: null,
      });
      return { claimed: true };
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

  async complete(id: IdempotencyRecordId, token: string, response: StoredResponse, ttl: number): Promise<boolean> {
    const record = this.owned(id, token);
    if (!record) return false;
    record.response = response;
    record.expiresAt = Date.now() + ttl;
    return true;
  }

  async release(id: IdempotencyRecordId, token: string): Promise<boolean> {
    return !!this.owned(id, token) && this.records.delete(this.idOf(id));
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

  private owned(id: IdempotencyRecordId, token: string): MemoryRecord | undefined {
    const record = this.records.get(this.idOf(id));
    return record?.token === token ? record : undefined;
  }

  private idOf({ scope, principal, key }: IdempotencyRecordId): string {
    return JSON.stringify([scope, principal, key]);
  }
}
