import { IDEMPOTENCY_RECORDS_TABLE } from '../../../lib/index.js';
import type { SharedDatabase } from './shared-database.js';

/**
 * The server's own view of the instances' sessions and records, as barriers
 * and checks for the atomic-mode tests (worker/atomic-effects.controller.ts):
 * what PostgreSQL reports, never a sleep.
 */

/** A record of the atomic route as a test inspects it. */
export interface AtomicRecordRow {
  status: 'processing' | 'completed';
  response_status: number | null;
  response_body: Buffer | null;
}

/** The committed records of `key` (of any scope: keys are unique per test). */
export function atomicRecords(shared: SharedDatabase, key: string): Promise<AtomicRecordRow[]> {
  return shared.query<AtomicRecordRow>(
    `SELECT status, response_status, response_body FROM ${IDEMPOTENCY_RECORDS_TABLE} WHERE key = $1`,
    [key],
  );
}

/** The `worker` of each `phase` row of `key`, in order: who ran the handler (`entered`), whose effect stayed (`effect`). */
export async function workersOf(shared: SharedDatabase, phase: 'entered' | 'effect', key: string): Promise<string[]> {
  const rows = await shared.query<{ worker: string }>('SELECT worker FROM side_effects WHERE phase = $1 AND key = $2 ORDER BY id', [
    phase,
    key,
  ]);
  return rows.map((row) => row.worker);
}

/** The backends of the database that hold a transaction open between statements (`idle in transaction`). */
export async function idleInTransaction(shared: SharedDatabase): Promise<number[]> {
  const rows = await shared.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' ORDER BY pid",
  );
  return rows.map((row) => row.pid);
}

/**
 * Resolves once `count` claims of the database wait for a lock: statements
 * naming the records table, or (PostgreSQL atomic mode) executing the
 * prepared atomic claim, which waits for the key's advisory lock.
 */
export function untilClaimsWaitForLock(shared: SharedDatabase, count: number, timeoutMs = 15_000): Promise<void> {
  return pollServer(
    async () => {
      const [{ n }] = await shared.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND (position($1 IN query) > 0 OR position('nestjs_idempotency_claimAtomic' IN query) > 0)`,
        [IDEMPOTENCY_RECORDS_TABLE],
      );
      return n >= count;
    },
    `${count} claims waiting for a lock`,
    timeoutMs,
  );
}

/** Resolves once none of the backends `pids` exists any more (the server has ended their sessions). */
export function untilBackendsGone(shared: SharedDatabase, pids: number[], timeoutMs = 15_000): Promise<void> {
  return pollServer(
    async () => (await shared.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [pids])).length === 0,
    `backends ${pids.join(', ')} to end`,
    timeoutMs,
  );
}

/** Asks the server again as soon as the event loop is free (no fixed interval), until `condition` holds. */
async function pollServer(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
