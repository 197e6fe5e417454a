import { IDEMPOTENCY_RECORDS_TABLE } from '../../../lib/index.js';
import type { SharedDatabase } from './shared-database.js';

/** The consumers that wrote a `phase` row of `key` (a message id) in `side_effects`, in order. */
export async function workersOf(shared: SharedDatabase, phase: 'entered' | 'effect', key: string): Promise<string[]> {
  const rows = await shared.query<{ worker: string }>('SELECT worker FROM side_effects WHERE phase = $1 AND key = $2 ORDER BY id', [
    phase,
    key,
  ]);
  return rows.map((row) => row.worker);
}

/** The statuses of the idempotency records of `key` (any scope: a message handler's is `message <pattern>`). */
export async function statusesOf(shared: SharedDatabase, key: string): Promise<string[]> {
  const rows = await shared.query<{ status: string }>(`SELECT status FROM ${IDEMPOTENCY_RECORDS_TABLE} WHERE key = $1`, [key]);
  return rows.map((row) => row.status);
}
