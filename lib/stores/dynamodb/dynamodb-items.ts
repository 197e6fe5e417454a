import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ExistingRecord, FoundRecord, StoredResponse } from '../../interfaces/idempotency-store.interface.js';

/**
 * Attribute names of a record item. `id` is the table's partition key (a
 * string); `expires_at` is its TTL attribute (epoch seconds), for
 * DynamoDB's own lazy deletion only: reads judge by `ends_at` (epoch ms).
 */
export const ATTRIBUTES = {
  id: 'id',
  fingerprint: 'fingerprint',
  token: 'token',
  state: 'state',
  /** Epoch ms: end of the lease (processing) or of the ttl (completed). */
  endsAt: 'ends_at',
  /** Epoch seconds, the TTL attribute: `ends_at` plus the clock-skew margin, rounded up. */
  expiresAt: 'expires_at',
  status: 'response_status',
  headers: 'response_headers',
  /** Binary; absent when the outcome was not stored. */
  body: 'response_body',
} as const;

/** A record item as the low-level client reads and writes it. */
export type RecordItem = Record<string, AttributeValue>;

/** The item a claim writes: a fresh `processing` record (a PutItem replaces every attribute of an old one). */
export function processingItem(id: string, fingerprint: string, token: string, endsAt: number, expiresAt: number): RecordItem {
  return {
    [ATTRIBUTES.id]: { S: id },
    [ATTRIBUTES.fingerprint]: { S: fingerprint },
    [ATTRIBUTES.token]: { S: token },
    [ATTRIBUTES.state]: { S: 'processing' },
    [ATTRIBUTES.endsAt]: { N: String(endsAt) },
    [ATTRIBUTES.expiresAt]: { N: String(expiresAt) },
  };
}

/**
 * The record an item holds, as a refused claim reports it. `expiresInMs` is
 * what is left of its ttl (completed) or of its lease plus `leaseMargin`
 * (processing), by the caller's clock at `now`.
 */
export function existingRecordOf(item: RecordItem, now: number, leaseMargin: number): ExistingRecord {
  const completed = isCompleted(item);
  return {
    fingerprint: item[ATTRIBUTES.fingerprint]?.S ?? '',
    status: completed ? 'completed' : 'processing',
    expiresInMs: remainingMs(item, now, leaseMargin),
    response: completed ? responseOf(item) : null,
  };
}

/** The record an item holds, as `find()` reports it; `null` when it is claimable (by the rule of {@link existingRecordOf}). */
export function foundRecordOf(item: RecordItem, now: number, leaseMargin: number): FoundRecord | null {
  const expiresInMs = remainingMs(item, now, leaseMargin);
  if (expiresInMs <= 0) return null;
  const completed = isCompleted(item);
  return {
    status: completed ? 'completed' : 'processing',
    token: item[ATTRIBUTES.token]?.S ?? '',
    fingerprint: item[ATTRIBUTES.fingerprint]?.S ?? '',
    expiresInMs,
    responseStatus: completed ? Number(item[ATTRIBUTES.status]?.N) : null,
  };
}

const isCompleted = (item: RecordItem) => item[ATTRIBUTES.state]?.S === 'completed';

/** What is left of a completed item's ttl, or of a processing item's lease plus `leaseMargin`, at `now`. */
function remainingMs(item: RecordItem, now: number, leaseMargin: number): number {
  return Number(item[ATTRIBUTES.endsAt]?.N ?? 0) + (isCompleted(item) ? 0 : leaseMargin) - now;
}

function responseOf(item: RecordItem): StoredResponse {
  const body = item[ATTRIBUTES.body]?.B;
  const headers = item[ATTRIBUTES.headers]?.S;
  return {
    status: Number(item[ATTRIBUTES.status]?.N),
    headers: headers ? (JSON.parse(headers) as Record<string, string>) : {},
    body: body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : null,
  };
}
