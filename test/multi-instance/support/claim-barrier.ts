import pg from 'pg';
import { IDEMPOTENCY_RECORDS_TABLE } from '../../../lib/index.js';
import { until } from './traffic.js';

/** The advisory lock the barrier's trigger waits on (any number; nothing else here uses advisory locks). */
const LOCK = 7_131_001;

/**
 * A barrier in the database for claims: while the test holds it, every
 * statement that inserts into the records table (a claim) waits, after it
 * took its snapshot and before it inserts; `release()` lets them all go on at
 * the same moment. So concurrent claims of one key really meet, on any
 * machine, however the instances and the store schedule them.
 *
 * It is a `BEFORE INSERT` trigger that takes a shared advisory lock for the
 * rest of the claim's transaction; the test holds the lock exclusively on a
 * session of its own. Claims made while it is open pass at once.
 */
export class ClaimBarrier {
  private constructor(private readonly session: pg.Client) {}

  /** Installs the trigger on the database at `url` (after the schema exists) and opens the test's session. */
  static async install(url: string): Promise<ClaimBarrier> {
    const session = new pg.Client({ connectionString: url });
    await session.connect();
    await session.query(`
      CREATE OR REPLACE FUNCTION test_claim_barrier() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock_shared(${LOCK});
        RETURN NEW;
      END $$`);
    await session.query(`
      CREATE TRIGGER test_claim_barrier BEFORE INSERT ON ${IDEMPOTENCY_RECORDS_TABLE}
      FOR EACH ROW EXECUTE FUNCTION test_claim_barrier()`);
    return new ClaimBarrier(session);
  }

  /** Closes the barrier: claims from now on wait. */
  async hold(): Promise<void> {
    await this.session.query('SELECT pg_advisory_lock($1)', [LOCK]);
  }

  /** How many claims wait at the barrier. */
  async waiting(): Promise<number> {
    const { rows } = await this.session.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND objsubid = 1 AND NOT granted`,
      [LOCK],
    );
    return rows[0].n;
  }

  /**
   * Resolves once `count` claims wait at the barrier, or, when fewer
   * connections can claim at once (a store with a small pool of its own), once
   * at least one waits and no other has joined for `quietMs`. Rejects after `timeoutMs`.
   */
  async filled(count: number, quietMs = 1_000, timeoutMs = 15_000): Promise<number> {
    let waiting = 0;
    let grewAt = Date.now();
    await until(
      async () => {
        const now = await this.waiting();
        if (now !== waiting) [waiting, grewAt] = [now, Date.now()];
        return waiting >= count || (waiting > 0 && Date.now() - grewAt >= quietMs);
      },
      `${count} claims at the barrier`,
      timeoutMs,
      10,
    );
    return waiting;
  }

  /** Opens the barrier: the claims waiting at it go on together. */
  async release(): Promise<void> {
    await this.session.query('SELECT pg_advisory_unlock($1)', [LOCK]);
  }

  async close(): Promise<void> {
    await this.session.end();
  }
}
